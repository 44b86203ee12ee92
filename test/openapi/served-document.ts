import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openapiPath } from '../../src/http/openapi.js';
import { engines } from '../support/engines.js';
import { createTestApp } from '../support/test-app.js';

/** A folder of its own for one test file's generated files; `remove()` deletes it. */
export function scratchFolder(prefix: string): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `herald-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The OpenAPI document a Herald serves, written to `folder/openapi.json`; returns the file and the document. */
export async function writeServedDocument(folder: string): Promise<{ readonly file: string; readonly document: OpenApiDocument }> {
  const herald = await createTestApp(engines[0]!);
  try {
    const answer = await herald.app.inject({ url: openapiPath });
    const document = answer.json() as OpenApiDocument;
    const file = join(folder, 'openapi.json');
    writeFileSync(file, JSON.stringify(document, null, 2));
    return { file, document };
  } finally {
    await herald.close();
  }
}

export interface OpenApiDocument {
  readonly paths: Record<string, Record<string, { operationId?: string; requestBody?: { content: Record<string, { schema?: object }> } }>>;
  readonly [key: string]: unknown;
}
