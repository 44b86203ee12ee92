import type { ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CommandError } from '../../src/cli/command-error.js';
import { parseTailOptions } from '../../src/cli/events-tail.js';
import { WaitingLine } from '../../src/cli/waiting-line.js';
import type { Store } from '../../src/store/store.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';
import { isOneLineError, runHerald, spawnHerald } from './herald-cli.js';

const orders = 'urn:altinn:resource:orders';

// Every check starts the real command as a process (about a second of start-up each, more on a busy
// machine): a ceiling for slow machines, not a timing assertion.
vi.setConfig({ testTimeout: 180_000 });

const app = 'https://ttd.apps.altinn.no/ttd/app';

/** An order event; override any attribute. */
const orderEvent = (overrides: Record<string, unknown>) =>
  validEvent({ resource: orders, source: app, type: 'order.created', subject: '/party/1337', ...overrides });

/** A running `herald events tail`: what it printed so far, and how it ended. */
function follow(database: string, args: string[]) {
  const child: ChildProcess = spawnHerald(database, ['events', 'tail', '--interval', '100ms', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const until = async (check: () => boolean, what: string) => {
    for (let attempt = 0; attempt < 400 && !check(); attempt++) {
      if (child.exitCode !== null) throw new Error(`tail exited (${child.exitCode}) before ${what}: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!check()) throw new Error(`timed out waiting for ${what}; stderr: ${stderr}`);
  };
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    /** Resolves once the tail has fixed its start: events committed from now on are after it. */
    started: () => until(() => stderr.includes('Following events after'), 'the start'),
    lines: () => stdout.split('\n').filter((line) => line !== ''),
    until,
  };
}

describeEachEngine('herald events tail, on $name', (engine) => {
  let db: TestDatabase;
  let store: Store;
  const running: ChildProcess[] = [];
  const publish = (...ids: string[]) => store.appendEvents(ids.map((id) => orderEvent({ id })));

  beforeEach(async () => {
    db = await engine.create();
    store = await db.open();
  });
  afterEach(async () => {
    for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await db.destroy();
  });

  it('starts at the head, prints each event published after it started as one JSON line, and exits 0 on SIGINT', async () => {
    await publish('old-1', 'old-2');
    const tail = follow(db.database, ['--json']);
    running.push(tail.child);
    await tail.started();
    expect(tail.stderr()).toContain(`Following events after ~${await store.headPosition()} `);
    await publish('new-1');
    await publish('new-2', 'new-3');
    await tail.until(() => tail.lines().length >= 3, 'three events');
    expect(tail.lines().map((line) => JSON.parse(line).id)).toEqual(['new-1', 'new-2', 'new-3']);
    expect(JSON.parse(tail.lines()[0]!)).toEqual(JSON.parse(orderEvent({ id: 'new-1' }).payload));

    tail.child.kill('SIGINT');
    expect(await tail.exited).toBe(0);
    // Not a terminal: no spinner, no control sequences, only the line saying where it started.
    expect(tail.stderr()).not.toContain('\x1b');
    expect(tail.stderr().trim().split('\n')).toHaveLength(1);
  });

  it('--from-start --limit N pretty-prints the first N events, a header line and indented JSON each, and exits by itself', async () => {
    await publish('a', 'b', 'c');
    const result = await runHerald(db.database, ['events', 'tail', '--from-start', '--limit', '2']);
    expect(result.code).toBe(0);
    const headers = result.stdout.split('\n').filter((line) => line.startsWith('~'));
    const position = async (id: string) => `~${await store.findEventPosition(id)}`;
    expect(headers).toEqual([
      `${await position('a')}  2020-02-20T08:00:06.4014168Z  order.created  ${app}  id=a  ${orders}  subject=/party/1337`,
      `${await position('b')}  2020-02-20T08:00:06.4014168Z  order.created  ${app}  id=b  ${orders}  subject=/party/1337`,
    ]);
    expect(result.stdout).toContain('\n  {\n    "specversion": "1.0",\n    "id": "a",');
    expect(result.stdout).not.toContain('id=c');
  });

  it('--after an event id or a ~position starts after it, and --type, --source and --resource filter', async () => {
    await store.appendEvents([
      orderEvent({ id: 'one' }),
      orderEvent({ id: 'two', type: 'order.shipped' }),
      orderEvent({ id: 'three', source: 'https://other.example.com/app' }),
      orderEvent({ id: 'four', resource: 'urn:altinn:resource:invoices' }),
      orderEvent({ id: 'five' }),
    ]);
    const ids = async (args: string[]) => {
      const result = await runHerald(db.database, ['events', 'tail', '--json', ...args]);
      expect(result.code, result.stderr).toBe(0);
      return result.stdout.trim().split('\n').map((line) => JSON.parse(line).id);
    };
    expect(await ids(['--after', 'two', '--limit', '3'])).toEqual(['three', 'four', 'five']);
    expect(await ids(['--after', `~${await store.findEventPosition('three')}`, '--limit', '2'])).toEqual(['four', 'five']);
    expect(
      await ids(['--from-start', '--type', 'order.created', '--source', 'https://ttd.apps.altinn.no/ttd', '--resource', orders, '--limit', '2']),
    ).toEqual(['one', 'five']);
  });

  if (engine.name === 'postgres') {
    it('keeps following when the database drops its connections (a restart, a failover)', async () => {
      const tail = follow(db.database, ['--json']);
      running.push(tail.child);
      await tail.started();
      await publish('before-drop');
      await tail.until(() => tail.lines().length >= 1, 'the first event');
      const admin = new pg.Client({ connectionString: db.database });
      await admin.connect();
      try {
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      } finally {
        await admin.end();
      }
      // The test's own store lost its connections too: a statement sent on one before the pool has noticed
      // fails, and the pool opens a new one for the next (Herald's appender retries a failed commit so).
      await publish('after-drop').catch(() => publish('after-drop'));
      await tail.until(() => tail.lines().length >= 2, 'an event after the drop');
      expect(tail.lines().map((line) => JSON.parse(line).id)).toEqual(['before-drop', 'after-drop']);
      tail.child.kill('SIGINT');
      expect(await tail.exited).toBe(0);
    });
  }

  it('a start that is not in the log exits 1 with one line on stderr', async () => {
    await publish('only');
    const beyond = (await store.headPosition()) + 1;
    const cases: [string[], RegExp][] = [
      [['--after', 'no-such-event'], /^herald: No event with id 'no-such-event' in the log\.\n$/],
      [['--after', `~${beyond}`], new RegExp(`^herald: Position ~${beyond} is beyond the end of the log\\.\\n$`)],
    ];
    for (const [args, message] of cases) {
      const result = await runHerald(db.database, ['events', 'tail', ...args]);
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.stderr).toMatch(message);
    }
  });
});

describe('herald events tail, written wrong', () => {
  const cases: [string[], RegExp][] = [
    [['--resource', 'orders'], /--resource must be a valid urn/],
    [['--limit', '0'], /--limit must be a positive integer/],
    [['--interval', 'soon'], /--interval must be a duration/],
    [['--interval', '1ms'], /--interval must be a duration of at least 50ms/],
    [['--after', 'only', '--from-start'], /--after or --from-start, not both/],
    [['--type', ''], /--type must not be empty/],
    [['--source', 'https://x/\u0007'], /--source must not contain control characters/],
    [['--follow'], /Unknown option '--follow'/],
    [['--limit'], /--limit/],
    [['extra'], /Unexpected argument 'extra'/],
  ];

  it('every option is checked: a usage error (exit code 2) names what is wrong', () => {
    for (const [args, message] of cases) {
      const refused = (() => {
        try {
          parseTailOptions(args);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(refused, args.join(' ')).toBeInstanceOf(CommandError);
      expect((refused as CommandError).exitCode).toBe(2);
      expect((refused as CommandError).message).toMatch(message);
    }
  });

  it('the command exits 2 with one line on stderr, before it looks for the database', async () => {
    const nowhere = join(tmpdir(), 'herald-no-such-folder', 'herald.db');
    for (const args of [['tail', '--resource', 'orders'], ['tail', '--follow'], ['list']]) {
      const result = await runHerald(nowhere, ['events', ...args]);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(isOneLineError(result.stderr), result.stderr).toBe(true);
    }
  });
});

describe('the waiting line', () => {
  /** A terminal as far as the line can tell: a stream that says it is a TTY, 40 columns wide. */
  function terminal(isTTY: boolean) {
    const written: string[] = [];
    const stream = new PassThrough() as unknown as NodeJS.WriteStream & { written: string[] };
    Object.assign(stream, { isTTY, columns: 40, written });
    stream.write = ((chunk: string) => written.push(chunk) > 0) as typeof stream.write;
    return stream;
  }

  it('shows on a terminal, cut to its width, and is erased before anything else is printed', () => {
    const tty = terminal(true);
    const line = new WaitingLine(tty);
    line.show('waiting for events after ~1042, 12 shown, and more text than fits');
    const [erase, drawn] = [tty.written.at(-1)!.slice(0, 5), tty.written.at(-1)!.slice(5)];
    expect(erase).toBe('\r\x1b[2K');
    expect(drawn).toHaveLength(39);
    expect(drawn.slice(1)).toBe(' waiting for events after ~1042, 12 sh');
    line.clear();
    expect(tty.written.at(-1)).toBe('\r\x1b[2K');
    line.note('The database answers again.');
    expect(tty.written.at(-1)).toBe('The database answers again.\n');
  });

  it('prints nothing but notes when the stream is not a terminal', () => {
    const file = terminal(false);
    const line = new WaitingLine(file);
    line.show('waiting');
    line.clear();
    line.note('a note');
    expect(file.written).toEqual(['a note\n']);
  });
});
