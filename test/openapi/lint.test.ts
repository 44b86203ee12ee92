import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchFolder, writeServedDocument } from './served-document.js';

const run = promisify(execFile);

interface LintReport {
  readonly totals: { readonly errors: number; readonly warnings: number };
  readonly problems: readonly { readonly ruleId: string; readonly severity: string; readonly message: string; readonly location: readonly { pointer?: string }[] }[];
}

describe("the OpenAPI document under Redocly's recommended rules (redocly.yaml)", () => {
  const folder = scratchFolder('redocly');
  let report: LintReport;

  beforeAll(async () => {
    const { file } = await writeServedDocument(folder.path);
    // Redocly exits 1 when it finds errors; the report is on stdout either way.
    const result = await run('node_modules/.bin/redocly', ['lint', '--config', 'redocly.yaml', '--format=json', file], {
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    report = JSON.parse(result.stdout) as LintReport;
  }, 60_000);
  afterAll(() => folder.remove());

  it('has no errors', () => {
    const errors = report.problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`);
    expect(errors).toEqual([]);
    expect(report.totals.errors).toBe(0);
  });
});
