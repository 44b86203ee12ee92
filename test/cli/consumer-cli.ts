import { spawn, type ChildProcess } from 'node:child_process';
import type { CliResult } from './herald-cli.js';

const entry = ['--import', 'tsx', 'src/cli/main.ts'];

/** A consumer's shell: Herald's address and a token, and nothing of the database or the test runner's env. */
export function consumerEnv(url: string, token: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { HERALD_DATABASE: _database, HERALD_JWT_SECRET: _secret, ...rest } = process.env;
  return { ...rest, HERALD_URL: url, HERALD_TOKEN: token, NO_COLOR: '1', ...extra };
}

/** Starts `herald <args>` with its output piped; `input` (if given) is written to its stdin, then closed. */
export function spawnConsumer(args: string[], env: NodeJS.ProcessEnv, input?: string): ChildProcess {
  const child = spawn(process.execPath, [...entry, ...args], { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (input !== undefined) child.stdin?.end(input);
  return child;
}

/** Runs `herald <args>` to its end. */
export function runConsumer(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return finished(spawnConsumer(args, env, input));
}

/** Collects a started command's output until it exits. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** The lines of NDJSON output, parsed. */
export function ndjson(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
