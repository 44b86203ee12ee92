import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { devSecretFile, loadOrCreateDevSecret } from '../../src/config/dev-secret.js';

describe('loadOrCreateDevSecret', () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'herald-dev-secret-'));
  });
  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('creates a random 256-bit secret in a data folder that does not exist yet', () => {
    const dataDir = join(folder, 'data', 'nested');
    const created = loadOrCreateDevSecret(dataDir);
    expect(created.created).toBe(true);
    expect(created.path).toBe(join(dataDir, devSecretFile));
    expect(Buffer.from(created.secret, 'base64url')).toHaveLength(32);
    expect(readFileSync(created.path, 'utf8')).toBe(`${created.secret}\n`);
  });

  it('makes the file readable by its owner only (mode 0600)', () => {
    const { path } = loadOrCreateDevSecret(folder);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('reuses the secret on the next call, so serve and token agree', () => {
    const first = loadOrCreateDevSecret(folder);
    const second = loadOrCreateDevSecret(folder);
    expect(second).toEqual({ secret: first.secret, path: first.path, created: false });
  });

  it('gives each data folder its own secret', () => {
    const a = loadOrCreateDevSecret(join(folder, 'a')).secret;
    const b = loadOrCreateDevSecret(join(folder, 'b')).secret;
    expect(a).not.toBe(b);
  });

  it('reads a secret an operator wrote there, without surrounding whitespace', () => {
    const secret = 'an-operator-chosen-secret-of-40-bytes-ok';
    writeFileSync(join(folder, devSecretFile), `  ${secret}\n\n`);
    expect(loadOrCreateDevSecret(folder)).toMatchObject({ secret, created: false });
  });

  it.each([
    ['empty', ''],
    ['blank', ' \n'],
    ['too short for HS256', 'abc\n'],
  ])('refuses a secret file that is %s rather than signing with a guessable key', (_label, content) => {
    writeFileSync(join(folder, devSecretFile), content);
    expect(() => loadOrCreateDevSecret(folder)).toThrow(/holds no usable secret .*delete it/);
  });

  it('passes on errors other than a missing file', () => {
    const notAFolder = join(folder, 'file');
    writeFileSync(notAFolder, 'x');
    expect(() => loadOrCreateDevSecret(notAFolder)).toThrow(/ENOTDIR/);
  });
});
