import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { it } from 'vitest';
import { freePort } from './herald-process.js';

const run = promisify(execFile);

/** Where PostgreSQL 15's server programs live (Debian's layout); HERALD_TEST_POSTGRES_BIN overrides it. */
const binaries = process.env.HERALD_TEST_POSTGRES_BIN || '/usr/lib/postgresql/15/bin';

/** The operating-system user the servers run as: PostgreSQL refuses to run as root, and the tests run as root. */
const serverUser = 'postgres';

/** The application_name the synchronous standby connects with, and the one `synchronous_standby_names` names. */
export const synchronousStandbyName = 'herald_sync';

/**
 * Why a cluster cannot be built here, or undefined when it can: the server programs, the `postgres` user and
 * `runuser` (to switch to it) must all be present, and the tests must run as root to switch.
 */
export function clusterUnavailable(): string | undefined {
  for (const program of ['initdb', 'pg_ctl', 'pg_basebackup']) {
    if (!existsSync(join(binaries, program))) return `PostgreSQL's ${program} is not in ${binaries} (set HERALD_TEST_POSTGRES_BIN)`;
  }
  if (process.getuid?.() !== 0) return `the tests do not run as root, so they cannot run the servers as '${serverUser}'`;
  try {
    execFileSync('id', ['-u', serverUser], { stdio: 'ignore' });
    execFileSync('runuser', ['--help'], { stdio: 'ignore' });
  } catch {
    return `there is no '${serverUser}' user or no runuser to switch to it`;
  }
  return undefined;
}

/**
 * Inside a `describe`: when no cluster can be built here, registers a skipped test that says why (never a
 * pass) and answers true, so the caller registers nothing else. As `skippedIfUnavailable` for engines.
 */
export function skippedWithoutCluster(): boolean {
  const reason = clusterUnavailable();
  if (reason === undefined) return false;
  it.skip(`SKIPPED: no PostgreSQL cluster can be built here: ${reason}`, () => {});
  return true;
}

/** One PostgreSQL server of a cluster: its data directory, its port, and whether it runs. */
export interface ClusterNode {
  /** `primary`, `standby` (the synchronous one) or `replica1`, `replica2`… (asynchronous hot standbys). */
  readonly name: string;
  readonly port: number;
  readonly dataDirectory: string;
  /** host:port, as a multi-host URL lists it. */
  readonly address: string;
  /** A single-host URL of `database` on this server. */
  url(database?: string): string;
}

export interface ClusterOptions {
  /** The database created on the primary (and so on every standby); `herald` unless told. */
  readonly database?: string;
  /** Whether the standby is synchronous (`synchronous_standby_names` names it). True unless told. */
  readonly synchronous?: boolean;
  /**
   * fsync and full-page writes on, as in production: for measuring (the benchmark). Off unless told: tests lose
   * processes, never the operating system, so the page cache survives a SIGKILL and durability is unchanged.
   */
  readonly durable?: boolean;
}

/**
 * A PostgreSQL 15 primary and a hot standby streaming from it, built from scratch in temporary directories on
 * free loopback ports, as a test of losing the database server needs them. The servers run as the `postgres`
 * user; `destroy` (and, should the test process die first, its exit) stops them and removes their files.
 *
 * @example
 * const cluster = await PostgresCluster.start();
 * const url = cluster.url(); // postgres://postgres@127.0.0.1:p1,127.0.0.1:p2/herald?target_session_attrs=read-write
 * await cluster.killPrimary();
 * await cluster.promote(cluster.standby);
 * await cluster.destroy();
 */
export class PostgresCluster {
  /** The server that accepted writes when the cluster was built (it stays `primary` after a promotion). */
  readonly primary: ClusterNode;
  /** The standby built with the cluster: synchronous unless `synchronous: false`. */
  readonly standby: ClusterNode;
  /** Standbys added later by `addStandby`, asynchronous. */
  readonly replicas: ClusterNode[] = [];
  readonly database: string;
  private readonly folder: string;
  private readonly running = new Set<ClusterNode>();
  private readonly onExit = () => this.killAllNow();
  /** The node that accepts writes now: the primary, or the standby once promoted. */
  private writer: ClusterNode;

  private constructor(folder: string, primary: ClusterNode, standby: ClusterNode, database: string) {
    this.folder = folder;
    this.primary = primary;
    this.standby = standby;
    this.writer = primary;
    this.database = database;
    process.on('exit', this.onExit);
  }

  /** Builds and starts the primary and its standby; resolves once the standby streams (and is synchronous). */
  static async start(options: ClusterOptions = {}): Promise<PostgresCluster> {
    const reason = clusterUnavailable();
    if (reason !== undefined) throw new Error(`No PostgreSQL cluster can be built here: ${reason}`);
    const folder = mkdtempSync(join(tmpdir(), 'herald-cluster-'));
    const { uid, gid } = serverIds();
    chownSync(folder, uid, gid);
    const database = options.database ?? 'herald';
    const primary = makeNode(folder, 'primary', await freePort());
    const standby = makeNode(folder, 'standby', await freePort());
    const cluster = new PostgresCluster(folder, primary, standby, database);
    try {
      await asServer('initdb', ['-D', primary.dataDirectory, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], folder);
      appendFileSync(join(primary.dataDirectory, 'postgresql.conf'), serverSettings(primary, folder, options.durable ?? false));
      // Replication connections from loopback are trusted like the others (initdb's trust covers local ones).
      appendFileSync(join(primary.dataDirectory, 'pg_hba.conf'), 'host replication all 127.0.0.1/32 trust\n');
      await cluster.startNode(primary);
      await cluster.sql(primary, `CREATE DATABASE ${database}`, 'postgres');
      await cluster.cloneStandby(standby, synchronousStandbyName);
      if (options.synchronous ?? true) {
        // Set after the base backup, so the standby does not inherit it: promoted, it runs alone rather than
        // waiting forever for a standby of its own (the operator attaches a new one, then sets this again).
        await cluster.sql(primary, `ALTER SYSTEM SET synchronous_standby_names = '${synchronousStandbyName}'`);
        await cluster.sql(primary, 'SELECT pg_reload_conf()');
        await cluster.waitForStandby(standby, synchronousStandbyName, 'sync');
      } else {
        await cluster.waitForStandby(standby, synchronousStandbyName, 'async');
      }
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** The node that accepts writes now. */
  get currentPrimary(): ClusterNode {
    return this.writer;
  }

  /**
   * libpq's multi-host URL of the cluster's database (Herald's HERALD_DATABASE): the given nodes in order,
   * the primary then the standby unless told, asking for the one that accepts writes.
   */
  url(nodes: readonly ClusterNode[] = [this.primary, this.standby]): string {
    const hosts = nodes.map((node) => node.address).join(',');
    return `postgres://postgres@${hosts}/${this.database}?target_session_attrs=read-write`;
  }

  /**
   * Loses the primary as a machine is lost: SIGKILL to the postmaster and every backend at once, so nothing
   * is flushed, no connection is closed politely, and nothing restarts it.
   */
  async killPrimary(): Promise<void> {
    await this.kill(this.writer);
  }

  /** SIGKILL to a node's postmaster and all its processes. */
  async kill(node: ClusterNode): Promise<void> {
    const postmaster = postmasterPid(node);
    if (postmaster !== undefined) {
      const children = childrenOf(postmaster);
      signal(postmaster, 'SIGKILL');
      for (const child of children) signal(child, 'SIGKILL');
    }
    this.running.delete(node);
    // The killed processes are gone once their port refuses connections.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (postmaster === undefined || alive(postmaster))) await sleep(20);
  }

  /** Promotes a standby to primary (`pg_ctl promote`, waiting until it accepts writes). */
  async promote(node: ClusterNode = this.standby): Promise<void> {
    await asServer('pg_ctl', ['promote', '-w', '-t', '60', '-D', node.dataDirectory], this.folder);
    this.writer = node;
  }

  /**
   * Adds a further hot standby streaming from the current primary, asynchronous (no synchronous_standby_names
   * names it): a read replica. Resolves once it streams and accepts reads.
   */
  async addStandby(): Promise<ClusterNode> {
    const node = makeNode(this.folder, `replica${this.replicas.length + 1}`, await freePort());
    this.replicas.push(node);
    await this.cloneStandby(node, `herald_${node.name}`);
    await this.waitForStandby(node, `herald_${node.name}`, 'async');
    return node;
  }

  /**
   * Stops a node: `fast` as an operator would (pg_ctl stop), `immediate` as a crash without killing. A stopped
   * synchronous standby makes the primary's commits wait.
   */
  async stop(node: ClusterNode, mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await asServer('pg_ctl', ['stop', '-w', '-m', mode, '-D', node.dataDirectory], this.folder);
    this.running.delete(node);
  }

  /** Starts a stopped node again with its own settings (a standby resumes streaming). */
  async restart(node: ClusterNode): Promise<void> {
    await this.startNode(node);
  }

  /** Runs one statement on a node as the superuser and answers its rows. */
  async sql<Row extends object = Record<string, unknown>>(node: ClusterNode, statement: string, database = this.database): Promise<Row[]> {
    const client = new pg.Client({ connectionString: node.url(database), connectionTimeoutMillis: 5_000 });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.query<Row>(statement)).rows;
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** Waits until `node` has replayed everything the current primary has written (its WAL position now). */
  async caughtUp(node: ClusterNode, timeoutMs = 20_000): Promise<void> {
    const [{ lsn }] = (await this.sql<{ lsn: string }>(this.writer, 'SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [row] = await this.sql<{ done: boolean }>(node, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS done`);
      if (row?.done) return;
      await sleep(50);
    }
    throw new Error(`${node.name} did not replay up to ${lsn} within ${timeoutMs} ms`);
  }

  /** Stops every node at once and removes the cluster's files. Safe to call twice, and after a failure. */
  async destroy(): Promise<void> {
    process.off('exit', this.onExit);
    this.killAllNow();
    rmSync(this.folder, { recursive: true, force: true });
  }

  /** Synchronous, so it also runs from the process's exit handler: nothing of the cluster outlives the test. */
  private killAllNow(): void {
    for (const node of [this.primary, this.standby, ...this.replicas]) {
      const postmaster = postmasterPid(node);
      if (postmaster === undefined) continue;
      const children = childrenOf(postmaster);
      signal(postmaster, 'SIGKILL');
      for (const child of children) signal(child, 'SIGKILL');
    }
    this.running.clear();
  }

  private async startNode(node: ClusterNode): Promise<void> {
    const log = join(node.dataDirectory, 'server.log');
    try {
      await asServer('pg_ctl', ['start', '-w', '-t', '60', '-D', node.dataDirectory, '-l', log], this.folder);
    } catch (error) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n') : '(no log)';
      throw new Error(`${node.name} did not start: ${(error as Error).message}\n${tail}`);
    }
    this.running.add(node);
  }

  /** A base backup of the current primary, configured as a hot standby of it, started. */
  private async cloneStandby(node: ClusterNode, applicationName: string): Promise<void> {
    const source = this.writer;
    await asServer(
      'pg_basebackup',
      ['-h', '127.0.0.1', '-p', String(source.port), '-U', 'postgres', '-D', node.dataDirectory, '-X', 'stream', '--no-sync', '-c', 'fast'],
      this.folder,
    );
    appendFileSync(
      join(node.dataDirectory, 'postgresql.auto.conf'),
      `port = ${node.port}\n` +
        `primary_conninfo = 'host=127.0.0.1 port=${source.port} user=postgres application_name=${applicationName}'\n`,
    );
    await asServer('touch', [join(node.dataDirectory, 'standby.signal')], this.folder);
    await this.startNode(node);
  }

  private async waitForStandby(node: ClusterNode, applicationName: string, state: 'sync' | 'async'): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const rows = await this.sql<{ sync_state: string }>(
        this.writer,
        `SELECT sync_state FROM pg_stat_replication WHERE application_name = '${applicationName}' AND state = 'streaming'`,
      );
      if (rows[0]?.sync_state === state) {
        // A hot standby accepts reads once it reached consistency; connecting proves it.
        await this.sql(node, 'SELECT 1');
        return;
      }
      await sleep(50);
    }
    throw new Error(`${node.name} did not stream from ${this.writer.name} as ${state} within 30 s`);
  }
}

function makeNode(folder: string, name: string, port: number): ClusterNode {
  return {
    name,
    port,
    dataDirectory: join(folder, name),
    address: `127.0.0.1:${port}`,
    url: (database = 'herald') => `postgres://postgres@127.0.0.1:${port}/${database}`,
  };
}

/**
 * The primary's settings; standbys inherit them through the base backup. Unless `durable`, fsync is off: the
 * tests lose processes, never the operating system, so the page cache survives a SIGKILL and durability is
 * unchanged while the disk is spared.
 */
function serverSettings(node: ClusterNode, folder: string, durable: boolean): string {
  return [
    '',
    '# herald test cluster',
    `port = ${node.port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${folder}'`,
    'wal_level = replica',
    'max_wal_senders = 10',
    'max_replication_slots = 10',
    'hot_standby = on',
    'synchronous_commit = on',
    'wal_keep_size = 256MB',
    `fsync = ${durable ? 'on' : 'off'}`,
    `full_page_writes = ${durable ? 'on' : 'off'}`,
    `shared_buffers = ${durable ? '128MB' : '32MB'}`,
    'max_connections = 200',
    '',
  ].join('\n');
}

/** Runs one of PostgreSQL's programs (or a plain command) as the server user, in the cluster's folder. */
async function asServer(program: string, args: readonly string[], cwd: string): Promise<void> {
  const path = program === 'touch' ? program : join(binaries, program);
  try {
    await run('runuser', ['-u', serverUser, '--', path, ...args], { cwd, timeout: 120_000 });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${program} ${args.join(' ')} failed: ${stderr || stdout || (error as Error).message}`);
  }
}

function serverIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', serverUser], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', serverUser], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** The postmaster's process id, from the first line of postmaster.pid, if the node runs. */
function postmasterPid(node: ClusterNode): number | undefined {
  const file = join(node.dataDirectory, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

/** The processes whose parent is `pid` (a postmaster's backends and helpers), from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent is the fourth field after the command's parenthesis (which may itself contain spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) children.push(Number(entry));
    } catch {
      // The process ended while being read.
    }
  }
  return children;
}

/** Whether the process exists and is not a zombie waiting to be reaped (a killed postmaster may linger so). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
