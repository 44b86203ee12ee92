import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { testSecret } from '../support/tokens.js';

/** What a finished `herald` command left behind. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const entry = ['--import', 'tsx', 'src/cli/main.ts'];

/** The environment an operator's shell would have: the database, and nothing from the test runner's. */
export function cliEnv(database: string): NodeJS.ProcessEnv {
  return { ...process.env, HERALD_DATABASE: database, HERALD_JWT_SECRET: testSecret, HERALD_LOG_LEVEL: 'silent', NO_COLOR: '1' };
}

/** Runs `herald <args>` against `database` as its own process and waits for it to exit. */
export function runHerald(database: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...entry, ...args], { env: cliEnv(database) }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

/** Starts `herald <args>` against `database` without waiting, its output piped. */
export function spawnHerald(database: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [...entry, ...args], { env: cliEnv(database), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A failure an operator can read: one line on stderr, and no stack trace. */
export function isOneLineError(stderr: string): boolean {
  return stderr.trim().split('\n').length === 1 && !/\n\s+at /.test(stderr) && stderr.startsWith('herald: ');
}
