import { describe, expect, it } from 'vitest';
import { attributeLimits, exceedsBytes, longestResource, subscriptionFieldLimits } from '../../src/domain/attribute-limits.js';
import { isValidResourceUrn } from '../../src/domain/resource-urn.js';

/** PostgreSQL's largest btree entry on 8 KiB pages; an entry also carries an 8-byte header and 4-byte lengths. */
const btreeMaxEntry = 2704;

describe('attribute limits', () => {
  it('keep the widest index entry, (source, id), under PostgreSQL btree limit', () => {
    expect(attributeLimits.source + 4 + attributeLimits.id + 4 + 8).toBeLessThan(btreeMaxEntry);
  });

  it('keep each (attribute, position) entry under the limit, resource included', () => {
    for (const limit of [attributeLimits.subject, attributeLimits.alternativesubject, attributeLimits.source, longestResource]) {
      expect(limit + 4 + 8 + 8).toBeLessThan(btreeMaxEntry);
    }
  });

  it("match what Altinn's URN rule allows for resource", () => {
    const longest = `urn:${'a'.repeat(30)}${`:${'b'.repeat(100)}`.repeat(10)}`;
    expect(longest).toHaveLength(longestResource);
    expect(isValidResourceUrn(longest)).toBe(true);
    expect(isValidResourceUrn(`${longest}b`)).toBe(false);
  });

  it('give each subscription filter the limit of the attribute it filters', () => {
    expect(subscriptionFieldLimits.subjectFilter).toBe(attributeLimits.subject);
    expect(subscriptionFieldLimits.sourceFilter).toBe(attributeLimits.source);
  });
});

describe('exceedsBytes', () => {
  it('counts UTF-8 bytes, not characters', () => {
    expect(exceedsBytes('a'.repeat(1024), 1024)).toBe(false);
    expect(exceedsBytes('a'.repeat(1025), 1024)).toBe(true);
    expect(exceedsBytes('€'.repeat(341), 1024)).toBe(false); // 1,023 bytes
    expect(exceedsBytes('€'.repeat(342), 1024)).toBe(true); // 1,026 bytes
    expect(exceedsBytes('😀'.repeat(256), 1024)).toBe(false); // 1,024 bytes in 512 UTF-16 units
    expect(exceedsBytes('😀'.repeat(257), 1024)).toBe(true);
  });
});
