import { describe, expect, it } from 'vitest';
import { disableMessages, maxDisableReasonLength, parseDisableRequest } from '../../src/domain/disable-request.js';

describe('parseDisableRequest', () => {
  it('takes no body, an empty object, or a reason', () => {
    expect(parseDisableRequest(undefined)).toEqual({ ok: true, value: {} });
    expect(parseDisableRequest(null)).toEqual({ ok: true, value: {} });
    expect(parseDisableRequest({})).toEqual({ ok: true, value: { reason: undefined } });
    expect(parseDisableRequest({ reason: 'Abuse: see ticket 42.' })).toEqual({ ok: true, value: { reason: 'Abuse: see ticket 42.' } });
    expect(parseDisableRequest({ reason: 'x'.repeat(maxDisableReasonLength) }).ok).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['blank', ' \u00a0 '],
    ['too long', 'x'.repeat(maxDisableReasonLength + 1)],
    ['two lines', 'a\nb'],
    ['a control character', 'a\u0007b'],
    ['an unpaired surrogate', 'a\ud800b'],
    ['a number', 42],
    ['null', null],
  ])('refuses a reason that is %s, naming reason', (_what, reason) => {
    expect(parseDisableRequest({ reason })).toEqual({ ok: false, errors: [{ field: 'reason', message: disableMessages.reason }] });
  });

  it('refuses what is not an object, and names each unknown field', () => {
    for (const body of ['x', 1, [], [{ reason: 'x' }]]) {
      expect(parseDisableRequest(body)).toEqual({ ok: false, errors: [{ field: 'body', message: disableMessages.notAnObject }] });
    }
    const parsed = parseDisableRequest({ reson: 'x', why: 'y' });
    expect(parsed.ok || parsed.errors.map((e) => e.field)).toEqual(['reson', 'why']);
  });
});
