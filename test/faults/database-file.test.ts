import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, inject, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { cliEnv, type CliResult, isOneLineError } from '../cli/herald-cli.js';

/** `herald serve` on `database`, given at most 20 s to fail (it must not start). */
function serveOn(database: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'serve'],
      { env: { ...cliEnv(database), PORT: '0', HOST: '127.0.0.1' }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (error as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

describeEachEngine('Starting on a database that is not one, on $name', (engine) => {
  const folder = mkdtempSync(join(tmpdir(), 'herald-not-a-db-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  if (engine.name === 'sqlite') {
    it('names the file, says what to do, and leaves the file as it was', async () => {
      const file = join(folder, 'notes.txt');
      const content = 'These are my notes, not a database.\n'.repeat(200);
      writeFileSync(file, content);
      const { code, stderr } = await serveOn(file);
      expect(code).toBe(1);
      expect(isOneLineError(stderr), stderr).toBe(true);
      expect(stderr).toContain(file);
      expect(stderr).toMatch(/not a SQLite database/);
      expect(stderr).toMatch(/HERALD_DATABASE/);
      expect(readFileSync(file, 'utf8')).toBe(content);
    });
  } else {
    it('names the database that does not exist and says what to do', async () => {
      const url = new URL(inject('postgresUrl') as string);
      url.pathname = '/herald_no_such_database';
      url.password = 'hidden-secret';
      const { code, stderr } = await serveOn(url.toString());
      expect(code).toBe(1);
      expect(isOneLineError(stderr), stderr).toBe(true);
      expect(stderr).toContain('herald_no_such_database');
      expect(stderr).toMatch(/HERALD_DATABASE/);
      expect(stderr).not.toContain('hidden-secret');
    });
  }
});
