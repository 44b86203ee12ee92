import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';
import { isOneLineError, runHerald, spawnHerald } from './herald-cli.js';

const orders = 'urn:altinn:resource:orders';
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
    expect(tail.stderr()).toMatch(/Following events after ~2 /);
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
    expect(headers).toEqual([
      `~1  2020-02-20T08:00:06.4014168Z  order.created  ${app}  id=a  ${orders}  subject=/party/1337`,
      `~2  2020-02-20T08:00:06.4014168Z  order.created  ${app}  id=b  ${orders}  subject=/party/1337`,
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
    expect(await ids(['--after', '~3', '--limit', '2'])).toEqual(['four', 'five']);
    expect(
      await ids(['--from-start', '--type', 'order.created', '--source', 'https://ttd.apps.altinn.no/ttd', '--resource', orders, '--limit', '2']),
    ).toEqual(['one', 'five']);
  });

  it('refuses bad input with one line on stderr: 2 for options written wrong, 1 for a start that is not in the log', async () => {
    await publish('only');
    const cases: [string[], number, RegExp][] = [
      [['events', 'tail', '--resource', 'orders'], 2, /--resource must be a valid urn/],
      [['events', 'tail', '--limit', '0'], 2, /--limit must be a positive integer/],
      [['events', 'tail', '--interval', 'soon'], 2, /--interval must be a duration/],
      [['events', 'tail', '--after', 'only', '--from-start'], 2, /--after or --from-start, not both/],
      [['events', 'tail', '--type', ''], 2, /--type must not be empty/],
      [['events', 'tail', '--follow'], 2, /Unknown option '--follow'/],
      [['events', 'tail', 'extra'], 2, /Unexpected argument 'extra'/],
      [['events', 'list'], 2, /unknown command 'list'/],
      [['events', 'tail', '--after', 'no-such-event'], 1, /No event with id 'no-such-event' in the log\./],
      [['events', 'tail', '--after', '~99'], 1, /Position ~99 is beyond the end of the log\./],
    ];
    for (const [args, code, message] of cases) {
      const result = await runHerald(db.database, args);
      expect({ args, code: result.code }).toEqual({ args, code });
      expect(result.stderr).toMatch(message);
      expect(isOneLineError(result.stderr), result.stderr).toBe(true);
    }
  });
});
