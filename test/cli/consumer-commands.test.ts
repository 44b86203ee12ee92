// The consumer commands (publish, poll, pull) as a user runs them: their own processes, talking HTTP with a
// token to a real Herald on a loopback port, on both engines.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HeraldClient } from '../../packages/client/src/index.js';
import { RestartableHerald } from '../client/herald-on-port.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { consumerEnv, finished, ndjson, runConsumer, spawnConsumer } from './consumer-cli.js';

const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';
const ids = (lines: Record<string, unknown>[]) => lines.map((line) => line.id);
const events = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => sampleEvent({ id: `${prefix}-${i}` }));

describeEachEngine('herald publish, poll and pull against a real Herald', (engine) => {
  let db: TestDatabase;
  let server: RestartableHerald;
  let client: HeraldClient;
  let env: NodeJS.ProcessEnv;
  let token: string;
  let dir: string;

  beforeEach(async () => {
    db = await engine.create();
    server = await RestartableHerald.start(db);
    token = await testToken();
    client = new HeraldClient({ baseUrl: server.baseUrl, token });
    env = consumerEnv(server.baseUrl, token);
    dir = mkdtempSync(join(tmpdir(), 'herald-consumer-'));
  });

  afterEach(async () => {
    await server.stop();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function logIds(): Promise<unknown[]> {
    const seen: unknown[] = [];
    for await (const page of client.poll({ resource }, { follow: false })) seen.push(...ids(page.events as never));
    return seen;
  }

  it('publishes one event from a file and a batch from stdin, filling in id and specversion, and prints a refusal readably', async () => {
    const { id: _id, specversion: _specversion, ...withoutId } = sampleEvent();
    const file = join(dir, 'event.json');
    writeFileSync(file, JSON.stringify(withoutId));
    const one = await runConsumer(['publish', file], env);
    expect(one).toMatchObject({ code: 0, stderr: '' });
    expect(one.stdout).toMatch(/^stored https:\/\/api\.domstol\.no\/\S+ [0-9a-f-]{36}\n$/);

    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${token}\n`);
    const { HERALD_TOKEN: _token, ...withoutToken } = env;
    const batch = await runConsumer(['publish', '--json', '--token-file', tokenFile, '-'], withoutToken, JSON.stringify(events('batch', 2)));
    expect(batch.code).toBe(0);
    expect(JSON.parse(batch.stdout)).toEqual({ stored: [{ source: sampleEvent().source, id: 'batch-0' }, { source: sampleEvent().source, id: 'batch-1' }], requests: 1 });

    const refused = await runConsumer(['publish'], env, JSON.stringify([sampleEvent({ id: 'fine' }), sampleEvent({ id: 'bad', time: 'yesterday' })]));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^herald: publish: Herald answered 400 events:\w+/);
    expect(refused.stderr).toMatch(/\[1\]\.time: /);
    expect(refused.stderr).not.toContain(token);

    const stored = await logIds();
    expect(stored).toHaveLength(3);
    expect(stored.slice(1)).toEqual(['batch-0', 'batch-1']);
  });

  it('poll prints NDJSON, resumes from --cursor-file, and --follow stops on Ctrl-C with its position saved', async () => {
    await client.publish(events('first', 5));
    const cursorFile = join(dir, 'poll.cursor');
    const args = ['poll', '--resource', resource, '--size', '2', '--cursor-file', cursorFile];
    const first = await runConsumer(args, env);
    expect(first.code).toBe(0);
    expect(ids(ndjson(first.stdout))).toEqual(events('first', 5).map((e) => e.id));
    expect(readFileSync(cursorFile, 'utf8')).toMatch(/^~\d+\n$/);

    await client.publish(events('second', 2));
    const second = await runConsumer(args, env);
    expect(ids(ndjson(second.stdout))).toEqual(['second-0', 'second-1']);

    const beforeFollow = readFileSync(cursorFile, 'utf8');
    const follow = spawnConsumer([...args, '--follow'], env);
    const output = finished(follow);
    let printed = '';
    follow.stdout?.on('data', (text: string) => (printed += text));
    await client.publish(events('third', 1));
    await expect.poll(() => printed, { timeout: 15_000 }).toContain('third-0');
    follow.kill('SIGINT');
    const stopped = await output;
    expect(stopped.code).toBe(0);
    expect(ids(ndjson(stopped.stdout))).toEqual(['third-0']);
    expect(readFileSync(cursorFile, 'utf8')).toMatch(/^~\d+\n$/);
    expect(readFileSync(cursorFile, 'utf8')).not.toBe(beforeFollow); // saved past the page it printed

    const last = await runConsumer(args, env);
    expect(last).toMatchObject({ code: 0, stdout: '' });

    const unauthorized = await runConsumer([...args, '--token', 'not-a-valid-token'], env);
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toMatch(/^herald: poll: Herald answered 401/);
    expect(unauthorized.stderr).not.toContain('not-a-valid-token');
  });

  it('pull --follow acknowledges what it printed: Ctrl-C leaves nothing queued, a kill loses nothing', async () => {
    const subscription = await client.subscriptions.create({ resourceFilter: resource });
    const pull = (extra: string[]) => spawnConsumer(['pull', String(subscription.id), '--limit', '3', ...extra], env);
    const queued = async () => (await client.pull(subscription.id, () => {}, { follow: false })).events;

    // Ctrl-C after everything was printed: the last page is acknowledged on the way out.
    const following = pull(['--follow']);
    const run = finished(following);
    let printed = '';
    following.stdout?.on('data', (text: string) => (printed += text));
    await client.publish(events('a', 7));
    await expect.poll(() => ndjson(printed).length, { timeout: 15_000 }).toBe(7);
    following.kill('SIGINT');
    const stopped = await run;
    expect(stopped.code).toBe(0);
    expect(ids(ndjson(stopped.stdout)).sort()).toEqual(events('a', 7).map((e) => e.id).sort());

    // SIGKILL mid-way (half the events not yet published): the next run, with the same checkpoint file, prints
    // at least everything the first did not.
    await client.publish(events('b', 10).slice(0, 4));
    const checkpointFile = join(dir, 'pull.checkpoint');
    const killed = pull(['--follow', '--checkpoint-file', checkpointFile]);
    const killedRun = finished(killed);
    let killedPrinted = '';
    killed.stdout?.on('data', (text: string) => (killedPrinted += text));
    await expect.poll(() => ndjson(killedPrinted).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
    killed.kill('SIGKILL');
    const before = ids(ndjson((await killedRun).stdout));
    expect(before).toHaveLength(4);
    await client.publish(events('b', 10).slice(4));
    const after = ids(ndjson((await runConsumer(['pull', String(subscription.id), '--limit', '3', '--checkpoint-file', checkpointFile], env)).stdout));
    const all = events('b', 10).map((e) => e.id);
    expect(before.every((id) => all.includes(id))).toBe(true);
    expect(all.filter((id) => !before.includes(id)).every((id) => after.includes(id))).toBe(true);
    expect(new Set([...before, ...after]).size).toBe(10);
    // Drained without --follow, everything printed was acknowledged.
    expect(await queued()).toBe(0);
  });
});
