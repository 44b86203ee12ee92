import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  /** Peak resident memory so far, in MiB (VmHWM). */
  peakRssMiB(): number;
  /** CPU time used so far (user + system), in seconds: what a load cost, whatever else shares the cores. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

function peakRss(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Linux's clock ticks per second for /proc times (USER_HZ), 100 on every common build. */
const ticksPerSecond = 100;

function cpuTime(pid: number | undefined): number {
  try {
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the whole line.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

function wrap(child: ChildProcess, url: string): Child {
  return {
    process: child,
    url,
    peakRssMiB: () => peakRss(child.pid),
    cpuSeconds: () => cpuTime(child.pid),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/** Starts a helper script (TypeScript, run with tsx) that reports its port over IPC. */
export async function startHelper(script: string): Promise<Child> {
  const child = fork(`${root}bench/${script}`, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return wrap(child, `http://127.0.0.1:${port}`);
}

/** Starts `herald serve` from the compiled build, as users run it, and waits until it is ready. */
export async function startHerald(env: Record<string, string>): Promise<Child> {
  const port = 18_000 + Math.floor(Math.random() * 2_000);
  const profileDir = process.env.HERALD_BENCH_PROFILE_DIR;
  const child = fork(`${root}bin/herald.js`, ['serve'], {
    execArgv: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
    env: { ...process.env, HERALD_LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: 'inherit',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    const ready = await fetch(`${url}/ready`).catch(() => undefined);
    if (ready?.ok) return wrap(child, url);
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('herald serve did not become ready');
}
