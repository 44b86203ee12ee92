import pg from 'pg';
import type { DatabaseHost, DatabaseHosts } from '../database-url.js';

/**
 * How long a failed search for the primary is the answer: while no server accepts writes, requests get their
 * 503 at once instead of each probing every host again.
 */
const searchAgainAfterMs = 250;

/** A server answering a probe: reachable, and whether it accepts writes. */
type Probe = { host: DatabaseHost; writable: boolean } | { host: DatabaseHost; failure: string };

/**
 * Finds, among the hosts of HERALD_DATABASE, the one that accepts writes, and keeps using it until it fails:
 * libpq's `target_session_attrs=read-write`, which node-postgres does not do. Every connection Herald opens
 * (the pool's, the listener's) is built with `Client`, which connects to the primary known now, or searches
 * for it first. A connection that fails, or a server found read-only (a primary demoted to standby), makes
 * the next connection search again, so a promoted standby is found without a restart.
 *
 * The search asks every host at once and takes the first, in the URL's order, that accepts writes: the
 * order the operator wrote decides when two would (a split brain is the operator's to prevent, not Herald's).
 */
export class PrimaryHost {
  /** The pg.Client to build connections with: each connects to the primary (pool option `Client`). */
  readonly Client: typeof pg.Client;
  private current: DatabaseHost | undefined;
  private search: Promise<DatabaseHost> | undefined;
  private lastFailure: { at: number; error: Error } | undefined;

  constructor(
    private readonly database: DatabaseHosts,
    private readonly connectTimeoutMs: number,
  ) {
    // A single host asked for nothing is used as is, as before multi-host support: no probe, no extra query.
    if (!database.writableOnly) this.current = database.hosts[0];
    this.Client = clientOf(this);
  }

  /** The configuration of every host, for a connection built with `Client` (the first host's; `Client` moves it). */
  get connectionString(): string {
    return (this.database.hosts[0] as DatabaseHost).url;
  }

  /** The host that accepts writes, as known now (undefined while searching or when none does). */
  get known(): DatabaseHost | undefined {
    return this.current;
  }

  /** The primary: the one known, or the result of a search (shared by every caller while it runs). */
  async primary(): Promise<DatabaseHost> {
    if (this.current) return this.current;
    if (this.lastFailure && Date.now() - this.lastFailure.at < searchAgainAfterMs) throw this.lastFailure.error;
    this.search ??= this.find().finally(() => {
      this.search = undefined;
    });
    return this.search;
  }

  /** Forgets `host` as the primary (it failed, or no longer accepts writes): the next connection searches. */
  lost(host: DatabaseHost): void {
    if (this.current === host && this.database.writableOnly) this.current = undefined;
  }

  /**
   * Asks the server `client` is connected to (the primary then, maybe not now) to cancel the statement it
   * runs: pg_cancel_backend from a fresh connection, which commits nothing and so never waits for a standby.
   */
  async cancel(client: pg.ClientBase): Promise<void> {
    const { host, port, processID } = client as unknown as { host: string; port: number; processID: number | null };
    const hosts = this.database.hosts;
    const target = hosts.find((h) => h.host === host && h.port === port) ?? (hosts.length === 1 ? hosts[0] : undefined);
    if (!target || !processID) return;
    const canceller = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: this.connectTimeoutMs });
    canceller.on('error', () => {});
    try {
      await canceller.connect();
      await canceller.query('SELECT pg_cancel_backend($1)', [processID]);
    } finally {
      await canceller.end().catch(() => {});
    }
  }

  /** Connects `client` (with `connect`, its own method) to the primary, searching for it when unknown. */
  async connectToPrimary(client: pg.Client, connect: () => Promise<unknown>): Promise<void> {
    const host = await this.primary();
    client.host = host.host;
    client.port = host.port;
    // A connection lost later (the server died or restarted as a standby) sends the next one searching.
    client.on('error', () => this.lost(host));
    try {
      await connect();
    } catch (error) {
      this.lost(host);
      throw error;
    }
    if (!this.database.writableOnly) return;
    // The search saw it accept writes, but it may have changed since: a connection is checked once, when made.
    const { rows } = await client.query<{ writable: boolean }>(writableQuery).catch(async (error: unknown) => {
      this.lost(host);
      throw error;
    });
    if (!rows[0]?.writable) {
      this.lost(host);
      await client.end().catch(() => {});
      throw readOnly(host);
    }
  }

  private async find(): Promise<DatabaseHost> {
    const probes = await Promise.all(this.database.hosts.map((host) => this.probe(host)));
    const found = probes.find((probe) => 'writable' in probe && probe.writable);
    if (found) {
      this.current = found.host;
      this.lastFailure = undefined;
      return found.host;
    }
    const seen = probes.map((probe) => `${probe.host.address} ${'failure' in probe ? probe.failure : 'is read-only'}`);
    const error = Object.assign(new Error(`No server of HERALD_DATABASE accepts writes: ${seen.join('; ')}.`), {
      // sqlclient_unable_to_establish_sqlconnection: the store is unavailable, so requests are answered 503.
      code: '08001',
    });
    this.lastFailure = { at: Date.now(), error };
    throw error;
  }

  private async probe(host: DatabaseHost): Promise<Probe> {
    const client = new pg.Client({ connectionString: host.url, connectionTimeoutMillis: this.connectTimeoutMs });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query<{ writable: boolean }>(writableQuery);
      return { host, writable: rows[0]?.writable === true };
    } catch (error) {
      return { host, failure: `failed (${(error as { code?: string }).code ?? (error as Error).message})` };
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** A pg.Client whose connections go to `primary`'s host instead of the one in its configuration. */
function clientOf(primary: PrimaryHost): typeof pg.Client {
  return class PrimaryClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: ((error: Error) => void) | ((error: null, client: pg.Client) => void)): void;
    override connect(callback?: ((error: Error) => void) | ((error: null, client: pg.Client) => void)): Promise<pg.Client> | void {
      const connected = primary.connectToPrimary(this, () => super.connect()).then(() => this);
      if (!callback) return connected;
      // pg-pool connects with a callback; the driver's own signature is (error, client).
      const settle = callback as (error: Error | null, client?: pg.Client) => void;
      connected.then(
        (client) => settle(null, client),
        (error: Error) => settle(error),
      );
    }
  };
}

/**
 * Whether the server takes writes: not in recovery (a standby) and not read-only by default, what libpq's
 * read-write checks (SHOW transaction_read_only) together with what `primary` checks.
 */
const writableQuery =
  "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable";

/** read_only_sql_transaction: the server is up but takes no writes; answered 503 as an unavailable store. */
function readOnly(host: DatabaseHost): Error {
  return Object.assign(new Error(`${host.address} no longer accepts writes (a standby now).`), { code: '25006' });
}
