/**
 * Whether `HERALD_DATABASE` names a PostgreSQL database rather than a SQLite file. Kept apart from the
 * engines so configuration can decide without loading a database driver.
 */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

/** One server of a PostgreSQL URL. */
export interface DatabaseHost {
  readonly host: string;
  readonly port: number;
  /** host:port as the URL spells it (an IPv6 address in brackets). */
  readonly address: string;
  /** The URL with this host alone and without `target_session_attrs`: what the driver takes. */
  readonly url: string;
}

/** The servers of a PostgreSQL URL and which of them Herald may use. */
export interface DatabaseHosts {
  readonly hosts: readonly DatabaseHost[];
  /**
   * Whether Herald must check that a server accepts writes before using it: when the URL lists several hosts,
   * or asks for `target_session_attrs=read-write` (or `primary`). A single host asking nothing is used as is.
   */
  readonly writableOnly: boolean;
}

/** The session kinds Herald can work with: it writes, so only a server that accepts writes will do. */
const writableSessionAttrs = new Set(['read-write', 'primary']);

/**
 * The hosts of a PostgreSQL URL in libpq's multi-host form (`postgres://u@h1:5432,h2:5433/db?…`), in order.
 * Throws with the reason when the URL cannot be used. The driver takes one host: each host's `url` is the
 * same URL with that host alone.
 * @example databaseHosts('postgres://h1,h2:5433/herald?target_session_attrs=read-write').hosts.map((h) => h.address) // ['h1:5432', 'h2:5433']
 */
export function databaseHosts(database: string): DatabaseHosts {
  const parts = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/i.exec(database);
  if (!parts) throw new Error('HERALD_DATABASE is not a valid postgres:// URL.');
  const [, scheme = '', user = '', authority = '', rest = ''] = parts;
  const query = new URLSearchParams(rest.includes('?') ? rest.slice(rest.indexOf('?') + 1).split('#')[0] : '');
  const attrs = query.get('target_session_attrs');
  if (attrs !== null && attrs !== 'any' && !writableSessionAttrs.has(attrs)) {
    throw new Error(
      `HERALD_DATABASE asks for target_session_attrs=${attrs}: Herald writes, so it takes read-write (or primary, or any for a single host).`,
    );
  }
  query.delete('target_session_attrs');
  const path = rest.split('?')[0] ?? '';
  const tail = `${path}${[...query].length > 0 ? `?${query.toString()}` : ''}`;
  const hosts = authority.split(',').map((entry) => {
    const url = `${scheme}${user}${entry}${tail}`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error('HERALD_DATABASE is not a valid postgres:// URL.');
    }
    if (parsed.hostname === '') throw new Error(`HERALD_DATABASE names an empty host ('${authority}').`);
    const port = parsed.port === '' ? 5432 : Number(parsed.port);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    return { host, port, address: `${parsed.hostname}:${port}`, url };
  });
  if (hosts.length > 1 && attrs === 'any') {
    throw new Error('HERALD_DATABASE lists several hosts with target_session_attrs=any: Herald must write, so ask for read-write.');
  }
  return { hosts, writableOnly: hosts.length > 1 || (attrs !== null && attrs !== 'any') };
}
