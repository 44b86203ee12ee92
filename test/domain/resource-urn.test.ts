import { describe, expect, it } from 'vitest';
import { isValidResourceUrn } from '../../src/domain/resource-urn.js';

describe('isValidResourceUrn', () => {
  it.each([
    'urn:altinn:resource:dodsbo.domstoladmin.api',
    'urn:altinn:app:ttd.apps-test',
    'urn:altinn:resource:a',
    'urn:x:y',
    'urn:my-nid-01:()+,.-;$_!/',
    `urn:${'n'.repeat(30)}:x`,
    `urn:altinn:${'s'.repeat(100)}`,
    `urn:altinn${':s'.repeat(10)}`,
  ])("accepts '%s'", (urn) => {
    expect(isValidResourceUrn(urn)).toBe(true);
  });

  it.each([
    ['upper case in the specific part', 'urn:altinn:resource:Dodsbo'],
    ['upper case in the namespace', 'urn:Altinn:resource:x'],
    ['an upper-case scheme', 'URN:altinn:resource:x'],
    ['no specific part', 'urn:altinn'],
    ['an empty namespace', 'urn::x'],
    ['an empty segment', 'urn:altinn::x'],
    ['a trailing colon', 'urn:altinn:resource:'],
    ['a 31-character namespace', `urn:${'n'.repeat(31)}:x`],
    ['a 101-character segment', `urn:altinn:${'s'.repeat(101)}`],
    ['eleven segments', `urn:altinn${':s'.repeat(11)}`],
    ['a dot in the namespace', 'urn:alt.inn:x'],
    ['a space', 'urn:altinn:resource:a b'],
    ['a percent sign', 'urn:altinn:resource:a%20b'],
    ['a hash', 'urn:altinn:resource:a#b'],
    ['a question mark', 'urn:altinn:resource:a?b'],
    ['a trailing newline', 'urn:altinn:resource:x\n'],
    ['a URL', 'https://altinn.no/resource/x'],
    ['an empty string', ''],
  ])('refuses a URN with %s', (_label, urn) => {
    expect(isValidResourceUrn(urn)).toBe(false);
  });
});
