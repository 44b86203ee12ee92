import { describe, expect, it } from 'vitest';
import { defaultGraceSeconds, maxGraceSeconds, parseSecretRotationRequest, secretsInUse } from '../../src/domain/secret-rotation.js';

describe('parseSecretRotationRequest', () => {
  it('takes no body, an empty object and a null grace as the default of 24 hours', () => {
    for (const body of [undefined, {}, { graceSeconds: null }]) {
      expect(parseSecretRotationRequest(body)).toEqual({ ok: true, value: { graceMs: defaultGraceSeconds * 1000 } });
    }
    expect(defaultGraceSeconds).toBe(86_400);
  });

  it('takes a whole number of seconds from 0 to 7 days', () => {
    expect(parseSecretRotationRequest({ graceSeconds: 0 })).toEqual({ ok: true, value: { graceMs: 0 } });
    expect(parseSecretRotationRequest({ graceSeconds: maxGraceSeconds })).toEqual({ ok: true, value: { graceMs: 604_800_000 } });
  });

  it.each([
    ['negative', { graceSeconds: -1 }, 'graceSeconds'],
    ['over 7 days', { graceSeconds: maxGraceSeconds + 1 }, 'graceSeconds'],
    ['fractional', { graceSeconds: 0.5 }, 'graceSeconds'],
    ['not a number', { graceSeconds: '60' }, 'graceSeconds'],
    ['infinite', { graceSeconds: Number.POSITIVE_INFINITY }, 'graceSeconds'],
    ['an unknown field', { graceSeconds: 60, grace: 1 }, 'grace'],
    ['an array', [], 'body'],
    ['null', null, 'body'],
    ['a string', '60', 'body'],
  ])('refuses %s, naming the field', (_what, body, field) => {
    const parsed = parseSecretRotationRequest(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.map((e) => e.field)).toContain(field);
  });
});

describe('secretsInUse', () => {
  const secrets = { secret: 'whsec_new', previousSecret: 'whsec_old', previousSecretUntil: 2_000 };
  it('signs with the new secret first and the replaced one until its grace period ends', () => {
    expect(secretsInUse(secrets, 1_999)).toEqual(['whsec_new', 'whsec_old']);
    expect(secretsInUse(secrets, 2_000)).toEqual(['whsec_new']);
  });
  it('signs with the one secret of a subscription never rotated, or rotated with no grace', () => {
    expect(secretsInUse({ secret: 'whsec_only', previousSecret: null, previousSecretUntil: null }, 0)).toEqual(['whsec_only']);
  });
});
