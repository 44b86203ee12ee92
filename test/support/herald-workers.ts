import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { testSecret } from './tokens.js';

/** One JSON log line of `herald serve --workers`: the primary's and the workers' alike. */
export interface LogLine {
  readonly pid: number;
  readonly msg: string;
  readonly role?: string;
  readonly workerPid?: number;
  readonly [field: string]: unknown;
}

/** `herald serve --workers N` with its JSON log lines collected as they come. */
export function serveWorkers(workers: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--workers', workers], {
    env: { ...process.env, HERALD_JWT_SECRET: testSecret, HOST: '127.0.0.1', HERALD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: LogLine[] = [];
  const waiters: { test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  /** The first line, from now or already logged, that passes `test`. */
  const logged = (test: (line: LogLine) => boolean, after = 0): Promise<LogLine> => {
    const seen = lines.slice(after).find(test);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ test, resolve }));
  };
  return { child, lines, logged };
}

/** The primary's line saying a worker serves. */
export const workerServing = (line: LogLine) => line.role === 'primary' && line.msg === 'worker serving';

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
