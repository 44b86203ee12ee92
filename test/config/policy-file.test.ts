import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyFile, PolicyFileError } from '../../src/config/policy-file.js';
import type { PolicyRequest } from '../../src/domain/policy.js';

const resource = 'urn:altinn:resource:herald.policy-file';
const readByTtd: PolicyRequest = { consumer: '/org/ttd', action: 'read', resource };
const readByOther: PolicyRequest = { consumer: '/org/other', action: 'read', resource };
const grantTo = (consumer: string) => JSON.stringify({ grants: [{ consumer, actions: ['read'], resources: [resource] }] });

describe('PolicyFile', () => {
  let folder: string;
  let path: string;
  /** Seconds since the epoch, moved on at every write so each write has an mtime of its own. */
  let mtime = 1_700_000_000;
  const write = (text: string) => {
    writeFileSync(path, text);
    mtime += 10;
    utimesSync(path, mtime, mtime);
  };
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'herald-policy-'));
    path = join(folder, 'policy.json');
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  describe('at start', () => {
    it('reads a valid policy and authorizes by it', () => {
      write(grantTo('/org/ttd'));
      const file = new PolicyFile(path);
      expect(file.authorizer.enforced).toBe(true);
      expect(file.authorizer.allows(readByTtd)).toBe(true);
      expect(file.authorizer.allows(readByOther)).toBe(false);
    });

    it('refuses a file that is not JSON, naming HERALD_POLICY and the file', () => {
      write('{ "grants": [ ');
      const error = catchError(() => new PolicyFile(path));
      expect(error).toBeInstanceOf(PolicyFileError);
      expect(error.message).toContain('HERALD_POLICY');
      expect(error.message).toContain(path);
      expect(error.message).toMatch(/JSON/);
    });

    it('refuses a file that does not exist, naming HERALD_POLICY and the file', () => {
      const error = catchError(() => new PolicyFile(join(folder, 'missing.json')));
      expect(error).toBeInstanceOf(PolicyFileError);
      expect(error.message).toContain('HERALD_POLICY');
      expect(error.message).toContain(join(folder, 'missing.json'));
    });

    it('refuses a policy that is not valid, naming HERALD_POLICY, the file and every mistake', () => {
      write(JSON.stringify({ grants: [{ consumer: '/org/ttd', actions: ['write'], resources: ['nope'] }] }));
      const error = catchError(() => new PolicyFile(path));
      expect(error).toBeInstanceOf(PolicyFileError);
      expect(error.message).toContain('HERALD_POLICY');
      expect(error.message).toContain(path);
      expect(error.message).toContain('grants[0].actions must list one or more of publish, subscribe, read.');
      expect(error.message).toContain('grants[0].resources must list resource URNs, each exact or ending in "*".');
    });

    it('refuses a document without grants', () => {
      write('{}');
      expect(() => new PolicyFile(path)).toThrow(/HERALD_POLICY.*not valid[\s\S]*"grants" array/);
    });
  });

  describe('refresh()', () => {
    it('picks up a changed file: a grant given and a grant revoked take effect', () => {
      write(grantTo('/org/ttd'));
      const file = new PolicyFile(path);
      write(grantTo('/org/other'));
      // Nothing changes until the file is read again.
      expect(file.authorizer.allows(readByTtd)).toBe(true);
      file.refresh();
      expect(file.authorizer.allows(readByTtd)).toBe(false);
      expect(file.authorizer.allows(readByOther)).toBe(true);
    });

    it('does not read the file again while its mtime is unchanged', () => {
      write(grantTo('/org/ttd'));
      const file = new PolicyFile(path);
      writeFileSync(path, grantTo('/org/other'));
      utimesSync(path, mtime, mtime); // the same mtime as before
      file.refresh();
      expect(file.authorizer.allows(readByTtd)).toBe(true);
      expect(file.authorizer.allows(readByOther)).toBe(false);
    });

    it.each([
      ['not JSON', '{"grants": ['],
      ['not a valid policy', JSON.stringify({ grants: [{ consumer: '/org/other', actions: [], resources: [resource] }] })],
      ['empty', ''],
    ])('keeps the last valid policy when the changed file is %s, and reports why', (_what, text) => {
      write(grantTo('/org/ttd'));
      const reported: Error[] = [];
      const file = new PolicyFile(path, (error) => reported.push(error));
      write(text);
      file.refresh();
      expect(file.authorizer.allows(readByTtd)).toBe(true);
      expect(file.authorizer.allows(readByOther)).toBe(false);
      expect(reported).toHaveLength(1);
      expect(reported[0]).toBeInstanceOf(PolicyFileError);
      expect(reported[0]!.message).toContain('HERALD_POLICY');
      // Once the file is fixed, the fix is picked up.
      write(grantTo('/org/other'));
      file.refresh();
      expect(file.authorizer.allows(readByTtd)).toBe(false);
      expect(file.authorizer.allows(readByOther)).toBe(true);
    });

    it('keeps the last valid policy when the file goes away', () => {
      write(grantTo('/org/ttd'));
      const reported: Error[] = [];
      const file = new PolicyFile(path, (error) => reported.push(error));
      rmSync(path);
      file.refresh();
      expect(file.authorizer.allows(readByTtd)).toBe(true);
      expect(reported).toHaveLength(1);
    });

    it('is driven by start() and stopped by stop()', () => {
      write(grantTo('/org/ttd'));
      const file = new PolicyFile(path);
      file.start();
      file.stop();
      expect(file.authorizer.allows(readByTtd)).toBe(true);
    });
  });
});

function catchError(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}
