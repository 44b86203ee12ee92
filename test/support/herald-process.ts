import { type ChildProcess, spawn } from 'node:child_process';
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

/** `herald serve` as its own process, as in production, on `database`; resolves once it is ready. */
export async function startHeraldProcess(
  database: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: {
      ...process.env,
      HERALD_DATABASE: database,
      HERALD_JWT_SECRET: testSecret,
      PORT: String(port),
      HOST: '127.0.0.1',
      HERALD_LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  // Generous: from the sources every SQLite thread loads TypeScript through tsx, slow on a loaded machine.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await fetch(`${base}/ready`).catch(() => undefined))?.ok) return { child, base };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error('herald serve did not become ready');
}
