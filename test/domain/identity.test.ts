import { describe, expect, it } from 'vitest';
import { consumerIdentity, hasAnyScope, parseConsumer, principalFromClaims, scopes } from '../../src/domain/identity.js';

const consumerOf = (claims: Record<string, unknown>) => principalFromClaims(claims)?.consumer;
const scopesOf = (claims: Record<string, unknown>) => [
  ...(principalFromClaims({ sub: 's', ...claims })?.scopes ?? []),
];

const maskinporten = { authority: 'iso6523-actorid-upis', ID: '0192:991825827' };

describe('principalFromClaims: the consumer', () => {
  it('takes org first, over every other claim', () => {
    expect(
      consumerOf({ org: 'ttd', userId: 1337, orgNumber: '991825827', consumer: maskinporten, sub: 's' }),
    ).toBe('/org/ttd');
  });

  it('takes userId when there is no org, over organisation numbers and sub', () => {
    expect(consumerOf({ userId: '1337', orgNumber: '991825827', consumer: maskinporten, sub: 's' })).toBe(
      '/user/1337',
    );
  });

  it('accepts a numeric userId and the lower-case userid spelling', () => {
    expect(consumerOf({ userId: 1337 })).toBe('/user/1337');
    expect(consumerOf({ userid: '42' })).toBe('/user/42');
  });

  it('takes orgNumber when there is no org or user, over the Maskinporten consumer', () => {
    expect(consumerOf({ orgNumber: '910000001', consumer: maskinporten, sub: 's' })).toBe(
      '/organisation/910000001',
    );
  });

  it("takes the organisation number from Maskinporten's consumer claim without its ISO 6523 prefix", () => {
    expect(consumerOf({ consumer: maskinporten, sub: 's' })).toBe('/organisation/991825827');
  });

  it('takes sub when no other claim names the caller, in a namespace of its own', () => {
    expect(consumerOf({ sub: 'client-7' })).toBe('/sub/client-7');
  });

  it('never reads a sub as an identity another claim derives', () => {
    expect(consumerOf({ sub: '/org/ttd' })).toBe('/sub/%2Forg%2Fttd');
    expect(consumerOf({ sub: '/person/01017012345' })).toBe('/sub/%2Fperson%2F01017012345');
    expect(consumerOf({ sub: '/sub/x' })).toBe('/sub/%2Fsub%2Fx');
  });

  it('percent-encodes every value, so no two values give one identity', () => {
    expect(consumerOf({ org: 'ttd/../user/1' })).toBe('/org/ttd%2F..%2Fuser%2F1');
    expect(consumerOf({ userId: '1 2' })).toBe('/user/1%202');
    expect(consumerOf({ sub: 'a/b' })).not.toBe(consumerOf({ sub: 'a%2Fb' }));
    expect(consumerOf({ sub: 'a%2Fb' })).toBe('/sub/a%252Fb');
    expect(consumerOf({ sub: 'auth0|42' })).toBe('/sub/auth0%7C42');
    expect(consumerOf({ sub: 'Ø' })).toBe('/sub/%C3%98');
  });

  it('names nobody when the claim that names the caller is not well-formed Unicode', () => {
    expect(principalFromClaims({ sub: 'a\ud800' })).toBeUndefined();
    expect(principalFromClaims({ org: '\udc00', sub: 'fallback' })).toBeUndefined();
  });

  it('skips empty and unusable claims and falls through to the next', () => {
    const fallback = '/sub/fallback';
    expect(consumerOf({ org: '', userId: null, orgNumber: Number.NaN, sub: 'fallback' })).toBe(fallback);
    expect(consumerOf({ consumer: { authority: 'x' }, sub: 'fallback' })).toBe(fallback);
    expect(consumerOf({ consumer: { ID: '0192:' }, sub: 'fallback' })).toBe(fallback);
    expect(consumerOf({ consumer: '0192:991825827', sub: 'fallback' })).toBe(fallback);
    expect(consumerOf({ org: { name: 'ttd' }, sub: 'fallback' })).toBe(fallback);
  });

  it('names nobody when the token has no identifying claim', () => {
    expect(principalFromClaims({ scope: scopes.publish })).toBeUndefined();
    expect(principalFromClaims({ sub: '' })).toBeUndefined();
  });
});

describe('consumerIdentity and parseConsumer', () => {
  it('read back every identity Herald writes', () => {
    for (const value of ['ttd', '1337', 'a/b', 'a%2Fb', '%', 'Ø x', "-_.!~*'()"]) {
      const identity = consumerIdentity('sub', value)!;
      expect(parseConsumer(identity)).toEqual({ namespace: 'sub', value });
    }
    expect(parseConsumer('/organisation/991825827')).toEqual({ namespace: 'organisation', value: '991825827' });
  });

  it.each([
    ['a bare sub', 'client-7'],
    ['an unknown namespace', '/team/x'],
    ['an empty value', '/org/'],
    ['an unencoded /', '/org/a/b'],
    ['lower-case hex', '/sub/a%2fb'],
    ['an encoding of a letter', '/sub/%61'],
    ['a broken escape', '/sub/a%2'],
    ['a character Herald encodes', '/sub/a|b'],
    ['a namespace in capitals', '/ORG/ttd'],
  ])('refuse %s', (_what, text) => {
    expect(parseConsumer(text)).toBeUndefined();
  });
});

describe('principalFromClaims: scopes', () => {
  it('splits the scope claim at spaces and lower-cases each scope', () => {
    expect(scopesOf({ scope: 'altinn:events.publish ALTINN:Events.Subscribe' })).toEqual([
      scopes.publish,
      scopes.subscribe,
    ]);
  });

  it('ignores repeated spaces', () => {
    expect(scopesOf({ scope: '  altinn:events.publish   openid ' })).toEqual([scopes.publish, 'openid']);
  });

  it('accepts scopes given as a list, ignoring entries that are not strings', () => {
    expect(scopesOf({ scope: ['altinn:events.publish', 7, null, 'Openid'] })).toEqual([
      scopes.publish,
      'openid',
    ]);
  });

  it("falls back to Altinn's urn:altinn:scope claim", () => {
    expect(scopesOf({ 'urn:altinn:scope': 'altinn:events.subscribe' })).toEqual([scopes.subscribe]);
  });

  it('grants no scopes when the token carries none', () => {
    expect(scopesOf({})).toEqual([]);
    expect(scopesOf({ scope: 42 })).toEqual([]);
  });
});

describe('hasAnyScope', () => {
  const principal = principalFromClaims({ sub: 's', scope: 'altinn:events.publish' })!;

  it('allows a caller holding any one of the required scopes, compared case-insensitively', () => {
    expect(hasAnyScope(principal, [scopes.publishAdmin, scopes.publish])).toBe(true);
    expect(hasAnyScope(principal, ['ALTINN:EVENTS.PUBLISH'])).toBe(true);
  });

  it('refuses a caller holding none of them, and does not read publish.admin as publish', () => {
    expect(hasAnyScope(principal, [scopes.subscribe, scopes.publishAdmin])).toBe(false);
    expect(hasAnyScope(principal, [])).toBe(false);
  });

  it("uses Altinn's scope names, and Herald's own only for the operator, which Altinn has no name for", () => {
    expect(scopes).toEqual({
      publish: 'altinn:events.publish',
      publishAdmin: 'altinn:events.publish.admin',
      subscribe: 'altinn:events.subscribe',
      operator: 'herald:operator',
    });
  });
});

describe('Altinn token claim names', () => {
  it('reads urn:altinn:org, urn:altinn:userid and urn:altinn:orgNumber as Altinn tokens carry them', () => {
    expect(principalFromClaims({ 'urn:altinn:org': 'ttd' })?.consumer).toBe('/org/ttd');
    expect(principalFromClaims({ 'urn:altinn:userid': '1337' })?.consumer).toBe('/user/1337');
    expect(principalFromClaims({ 'urn:altinn:orgNumber': '991825827' })?.consumer).toBe(
      '/organisation/991825827',
    );
  });
});
