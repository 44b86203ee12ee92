import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { testSecret } from './tokens.js';

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface HeraldProcessOptions {
  /**
   * Listen on a loopback address of its own (127.x.y.z) beside a free port: a port found free can be taken by
   * another test file's process before this one listens, and /ready would then be answered by that one.
   */
  readonly ownAddress?: boolean;
  /** How long it may take to be ready; unset, 30 s. */
  readonly readyWithinMs?: number;
}

/**
 * `herald serve` as its own process, as in production, on `database`; resolves once it is ready. The end of what
 * it wrote is kept: `said()` explains a process that exited early or stopped answering.
 */
export async function startHeraldProcess(
  database: string,
  env: Record<string, string> = {},
  options: HeraldProcessOptions = {},
): Promise<{ child: ChildProcess; base: string; said: () => string }> {
  const host = options.ownAddress ? `127.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(1, 255)}` : '127.0.0.1';
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: {
      ...process.env,
      HERALD_DATABASE: database,
      HERALD_JWT_SECRET: testSecret,
      PORT: String(port),
      HOST: host,
      HERALD_LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-16_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const said = () =>
    `herald serve ${child.exitCode !== null || child.signalCode !== null ? `exited (${child.exitCode ?? child.signalCode})` : 'is running'}; its last output:\n${output}`;
  const base = `http://${host}:${port}`;
  // Generous: from the sources every SQLite thread loads TypeScript through tsx, slow on a loaded machine.
  const deadline = Date.now() + (options.readyWithinMs ?? 30_000);
  while (Date.now() < deadline && child.exitCode === null) {
    if ((await fetch(`${base}/ready`).catch(() => undefined))?.ok) return { child, base, said };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`herald serve did not become ready: ${said()}`);
}
