// Runs the shell examples of docs/cli.md and the README's quick tour with bash, as written, against a real
// Herald: `herald`/`npx herald` run this checkout's CLI, and only Herald's address (and the listener's port)
// are pointed at the test's own.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestartableHerald } from '../client/herald-on-port.js';
import { engines, type TestDatabase } from '../support/engines.js';
import { freePort } from '../support/herald-process.js';
import { testSecret, testToken } from '../support/tokens.js';
import { consumerEnv, runConsumer } from './consumer-cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const marker = '=== example';

/** The ```sh blocks of a document, in order. */
function shellBlocks(path: string): string[] {
  return [...readFileSync(join(root, path), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

/**
 * `herald` and `npx herald` as this checkout's CLI: scripts that exec node, so that a command started with `&`
 * is one process, which the examples' `kill %1` ends.
 */
function commandsFolder(): string {
  const bin = mkdtempSync(join(tmpdir(), 'herald-cli-bin-'));
  writeFileSync(join(bin, 'herald'), `#!/bin/sh\nexec node --import '${import.meta.resolve('tsx')}' '${join(root, 'src/cli/main.ts')}' "$@"\n`, { mode: 0o755 });
  writeFileSync(join(bin, 'npx'), `#!/bin/sh\nif [ "$1" = herald ]; then shift; exec herald "$@"; fi\necho "the examples use npx only for herald" >&2; exit 127\n`, { mode: 0o755 });
  return bin;
}

/** Runs `blocks` as one bash script in `cwd`; answers each block's stdout. */
function runBlocks(blocks: string[], cwd: string, replacements: [string, string][], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ outputs: string[]; stderr: string; code: number }> {
  let script = ['set -e -o pipefail', ...blocks.map((block, i) => `echo '${marker} ${i}'\n${block}`)].join('\n');
  for (const [from, to] of replacements) script = script.replaceAll(from, to);
  const { HERALD_URL: _url, HERALD_TOKEN: _token, HERALD_DATABASE: _database, ...env } = process.env;
  const bin = commandsFolder();
  const path = `${bin}:${env.PATH ?? ''}`;
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd, env: { ...env, PATH: path, HERALD_JWT_SECRET: testSecret, HERALD_LOG_LEVEL: 'silent', ...extraEnv }, timeout: 120_000 }, (error, stdout, stderr) => {
      rmSync(bin, { recursive: true, force: true });
      const outputs = stdout.split(new RegExp(`${marker} \\d+\\n`)).slice(1);
      resolve({ outputs, stderr, code: error ? Number((error as { code?: unknown }).code ?? 1) : 0 });
    });
  });
}

describe('the shell examples of docs/cli.md and README.md, run against Herald (sqlite)', () => {
  let db: TestDatabase;
  let server: RestartableHerald;
  const cwd = mkdtempSync(join(tmpdir(), 'herald-cli-doc-'));

  beforeAll(async () => {
    db = await engines[0]!.create();
    server = await RestartableHerald.start(db, { allowPrivateEndpoints: true, timeoutMs: 10_000 }, true);
  });
  afterAll(async () => {
    await server.stop();
    await db.destroy();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('docs/cli.md: publish, poll with a cursor file, pull with a checkpoint file, listen', async () => {
    const port = String(await freePort());
    const started = Date.now();
    const result = await runBlocks(shellBlocks('docs/cli.md'), cwd, [
      ['http://localhost:8080', server.baseUrl],
      ['9000', port],
    ]);
    // Its output closed soon after the script ended: `kill %1` stopped the listener.
    expect(Date.now() - started).toBeLessThan(100_000);
    expect(result.stderr).not.toMatch(/herald: /);
    expect(result.code).toBe(0);
    const [, published, polled, pulled, listened] = result.outputs;
    expect(published?.match(/^stored https:\/\/shop\.example\/orders\/\d \S+$/gm)).toHaveLength(3);
    expect(polled).toBe('{"orderId":1}\n{"orderId":2}\nnull\n');
    expect(pulled?.trim().split('\n').at(-1)?.trim()).toBe('2');
    const deliveries = listened?.split('\n').filter((line) => line.startsWith('["msg_')) ?? [];
    expect(deliveries.map((line) => JSON.parse(line)[1]).sort()).toEqual([1, 2]);
  }, 130_000);

  it("docs/cli.md: a refused batch reads as the page shows", async () => {
    const shown = /A refused batch[^\n]*\n```\n([\s\S]*?)```/.exec(readFileSync(join(root, 'docs/cli.md'), 'utf8'))![1];
    const event = { source: 'https://shop.example/orders/1', type: 'order.placed', resource: 'urn:altinn:resource:dodsbo.domstoladmin.api' };
    const refused = await runConsumer(['publish'], consumerEnv(server.baseUrl, await testToken()), JSON.stringify([event, { ...event, time: 'yesterday' }]));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(shown);
  });

  it("README.md's quick tour: a token, herald publish, herald poll", async () => {
    const tour = shellBlocks('README.md').find((block) => block.includes('herald publish'))!;
    // The tour relies on the default URL (what `npm start` serves): HERALD_URL points it at the test's Herald.
    const result = await runBlocks([tour], cwd, [], { HERALD_URL: server.baseUrl });
    expect(result.code).toBe(0);
    expect(result.outputs[0]).toMatch(/^stored https:\/\/api\.domstol\.no\/dodsbo-api\/v1\/dodsbo\/91f2388f \S+$/m);
    expect(result.outputs[0]).toContain('"alternativesubject":"/person/16069412345"');
  }, 60_000);
});
