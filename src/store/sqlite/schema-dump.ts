import type Database from 'better-sqlite3';

interface SchemaRow {
  readonly type: string;
  readonly name: string;
  readonly table: string;
  readonly sql: string;
}

/** Tables first, then what hangs off them; within a kind, by name. */
const kindOrder = ['table', 'view', 'index', 'trigger'];

/**
 * The schema of a migrated SQLite database as readable text, the same whatever order things were created in:
 * every table with its indexes and triggers, from `sqlite_schema`, comments removed and whitespace
 * normalised. SQLite's own objects (`sqlite_sequence`, the automatic indexes of UNIQUE and PRIMARY KEY) are
 * left out, and so is every row of data, `herald_migrations`' included.
 * @example dumpSqliteSchema(new Database('./data/herald.db', { readonly: true }))
 */
export function dumpSqliteSchema(db: Database.Database): string {
  const rows = db
    .prepare(
      `SELECT type, name, tbl_name AS "table", sql FROM sqlite_schema
       WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`,
    )
    .all() as SchemaRow[];
  const sorted = rows.sort(
    (a, b) =>
      compare(a.table, b.table) ||
      kindOrder.indexOf(a.type) - kindOrder.indexOf(b.type) ||
      compare(a.name, b.name),
  );
  // A blank line between tables; a table's indexes and triggers follow it directly.
  const text = sorted
    .map((row, n) => `${n > 0 && sorted[n - 1]?.table !== row.table ? '\n' : ''}${normaliseSql(row.type, row.sql)};`)
    .join('\n');
  return `-- SQLite schema of a freshly migrated Herald database. Made by \`npm run schema:dump\`; do not edit.\n\n${text}\n`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The statement without comments and on one line, runs of whitespace made one space (outside quotes); a
 * table's columns and constraints then go one to a line. SQLite keeps a CREATE statement's text as written,
 * comments and all, and appends each ALTER TABLE … ADD COLUMN to it: a reworded comment would otherwise read
 * as a schema change, and a column added later would not read like the others.
 */
function normaliseSql(type: string, sql: string): string {
  const tokens = tokenise(sql);
  const flat = tokens.join('').trim();
  if (type !== 'table') return flat;
  // The column list is the first parenthesis; split it at its own commas, not those nested inside it.
  const items: string[] = [];
  let head = '';
  let item = '';
  let depth = 0;
  let tail = '';
  let closed = false;
  for (const token of tokens) {
    if (closed) tail += token;
    else if (depth === 0) {
      if (token === '(') depth = 1;
      else head += token;
    } else if (token === ',' && depth === 1) {
      items.push(item);
      item = '';
    } else {
      if (token === '(') depth++;
      if (token === ')' && --depth === 0) {
        items.push(item);
        closed = true;
      } else item += token;
    }
  }
  if (items.length === 0) return flat;
  return `${head.trim()} (\n${items.map((i) => `  ${i.trim()}`).join(',\n')}\n)${tail.trimEnd()}`;
}

/** Comments dropped, whitespace runs made one space, quoted runs kept whole (a doubled quote inside stays). */
function tokenise(sql: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < sql.length) {
    const char = sql[i] as string;
    if (char === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (char === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (/\s/.test(char)) {
      if (tokens.length > 0 && tokens.at(-1) !== ' ') tokens.push(' ');
      i++;
    } else if (char === "'" || char === '"' || char === '`' || char === '[') {
      const close = char === '[' ? ']' : char;
      let end = i + 1;
      while (end < sql.length && !(sql[end] === close && sql[end + 1] !== close)) end += sql[end] === close ? 2 : 1;
      tokens.push(sql.slice(i, end + 1));
      i = end + 1;
    } else {
      tokens.push(char);
      i++;
    }
  }
  return tokens;
}
