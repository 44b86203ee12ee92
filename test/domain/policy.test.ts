import { describe, expect, it } from 'vitest';
import {
  type Grant,
  isAllowed,
  type Policy,
  type PolicyRequest,
  parsePolicy,
  policyAuthorizer,
  readsWholeResource,
  scopesOnly,
} from '../../src/domain/policy.js';

const resource = 'urn:altinn:resource:herald.policy-test';
const messages = {
  document: 'A policy is an object with a "grants" array.',
  consumer:
    'must be "*" or a consumer as Herald names it, such as "/org/ttd", "/user/1337", "/organisation/991825827" or "/sub/client-7".',
  actions: 'must list one or more of publish, subscribe, read.',
  resources: 'must list resource URNs, each exact or ending in "*".',
  subjects: 'must be "self" or a non-empty list of subjects.',
};

/** A grant valid in every way, for the tests to spoil one field of. */
const validGrant = { consumer: '/org/ttd', actions: ['read'], resources: [resource] };

describe('parsePolicy', () => {
  it.each([
    ['null', null],
    ['a string', 'grants'],
    ['a number', 42],
    ['an array', [validGrant]],
    ['an object without grants', {}],
    ['grants that are not an array', { grants: validGrant }],
    ['grants that are null', { grants: null }],
  ])('refuses %s as a whole, naming "grants"', (_what, document) => {
    expect(parsePolicy(document)).toEqual({ ok: false, errors: [{ field: 'grants', message: messages.document }] });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['not a string', 7],
    ['null', null],
    ['a bare sub, as older Herald named a sub-only token', 'client-7'],
    ['in no namespace', '/team/ttd'],
    ['a value with an unencoded /', '/org/ttd/x'],
    ['encoded otherwise than Herald encodes (%2f for %2F)', '/sub/a%2fb'],
    ['a namespace without a value', '/org/'],
  ])('refuses a consumer that is %s', (_what, consumer) => {
    expect(parsePolicy({ grants: [{ ...validGrant, consumer }] })).toEqual({
      ok: false,
      errors: [{ field: 'grants[0].consumer', message: messages.consumer }],
    });
  });

  it.each([
    ['missing', undefined],
    ['empty', []],
    ['not an array', 'read'],
    ['an unknown action', ['write']],
    ['a known action with an unknown one', ['read', 'admin']],
    ['an action in other case', ['Read']],
  ])('refuses actions that are %s', (_what, actions) => {
    expect(parsePolicy({ grants: [{ ...validGrant, actions }] })).toEqual({
      ok: false,
      errors: [{ field: 'grants[0].actions', message: messages.actions }],
    });
  });

  it.each([
    ['missing', undefined],
    ['empty', []],
    ['not an array', resource],
    ['not a URN', ['altinn:resource:a']],
    ['a number', [1]],
    ['a wildcard in the middle', ['urn:altinn:*:a']],
    ['a leading wildcard', ['*urn:altinn:resource:a']],
    ['a bare "urn:*"', ['urn:*']],
    ['holding a space', ['urn:altinn:resource:a b']],
    ['one good and one bad', [resource, 'nope']],
  ])('refuses resources that are %s', (_what, resources) => {
    expect(parsePolicy({ grants: [{ ...validGrant, resources }] })).toEqual({
      ok: false,
      errors: [{ field: 'grants[0].resources', message: messages.resources }],
    });
  });

  it.each([
    ['another word', 'others'],
    ['null', null],
    ['an object', { subject: '/party/1' }],
    ['a list with an empty subject', ['/party/1', '']],
    ['a list with a number', [1]],
  ])('refuses subjects that are %s', (_what, subjects) => {
    expect(parsePolicy({ grants: [{ ...validGrant, subjects }] })).toEqual({
      ok: false,
      errors: [{ field: 'grants[0].subjects', message: messages.subjects }],
    });
  });

  it('names every mistake of every grant, by its index', () => {
    const parsed = parsePolicy({
      grants: [validGrant, { consumer: '', actions: ['x'], resources: [], subjects: 5 }, null, 'a grant'],
    });
    expect(parsed).toEqual({
      ok: false,
      errors: [
        { field: 'grants[1].consumer', message: messages.consumer },
        { field: 'grants[1].actions', message: messages.actions },
        { field: 'grants[1].resources', message: messages.resources },
        { field: 'grants[1].subjects', message: messages.subjects },
        { field: 'grants[2].consumer', message: messages.consumer },
        { field: 'grants[2].actions', message: messages.actions },
        { field: 'grants[2].resources', message: messages.resources },
        { field: 'grants[3].consumer', message: messages.consumer },
        { field: 'grants[3].actions', message: messages.actions },
        { field: 'grants[3].resources', message: messages.resources },
      ],
    });
  });

  it('accepts an empty list of grants: a policy that allows nothing', () => {
    expect(parsePolicy({ grants: [] })).toEqual({ ok: true, value: { grants: [] } });
  });

  it('accepts every form a grant may take', () => {
    const grants = [
      { consumer: '*', actions: ['publish', 'subscribe', 'read'], resources: ['*'] },
      { consumer: '/org/ttd', actions: ['read'], resources: ['urn:altinn:resource:*', resource], subjects: 'self' },
      { consumer: '/organisation/991825827', actions: ['read', 'read'], resources: [resource], subjects: ['/party/1', '/person/2'] },
      { consumer: '/user/1337', actions: ['publish'], resources: ['urn:altinn:resource:herald.a*'], note: 'ignored' },
    ];
    expect(parsePolicy({ grants, comment: 'extra members are ignored' })).toEqual({ ok: true, value: { grants } });
  });
});

describe('isAllowed', () => {
  const policy = (...grants: Grant[]): Policy => ({ grants });
  const ask = (overrides: Partial<PolicyRequest> = {}): PolicyRequest => ({
    consumer: '/org/ttd',
    action: 'read',
    resource,
    ...overrides,
  });
  const about = (subject: string | null, alternativesubject: string | null = null) => ({ event: { subject, alternativesubject } });
  const grant = (overrides: Partial<Grant> = {}): Grant => ({ consumer: '/org/ttd', actions: ['read'], resources: [resource], ...overrides });

  it('allows nothing without a grant', () => {
    for (const action of ['publish', 'subscribe', 'read'] as const) {
      expect(isAllowed(policy(), ask({ action }))).toBe(false);
      expect(isAllowed(policy(), ask({ action, ...about('/party/1') }))).toBe(false);
    }
  });

  it('matches the consumer exactly, or everyone with "*"', () => {
    expect(isAllowed(policy(grant()), ask())).toBe(true);
    expect(isAllowed(policy(grant()), ask({ consumer: '/org/other' }))).toBe(false);
    expect(isAllowed(policy(grant()), ask({ consumer: '/org/ttdx' }))).toBe(false);
    expect(isAllowed(policy(grant()), ask({ consumer: '/org/TTD' }))).toBe(false);
    expect(isAllowed(policy(grant({ consumer: '*' })), ask({ consumer: '/org/other' }))).toBe(true);
    expect(isAllowed(policy(grant({ consumer: '*' })), ask({ consumer: '/user/1337' }))).toBe(true);
  });

  it('"*" is a whole-value wildcard for consumers, not a prefix', () => {
    expect(isAllowed(policy(grant({ consumer: '/org/*' })), ask({ consumer: '/org/ttd' }))).toBe(false);
  });

  it('allows only the actions granted', () => {
    const readOnly = policy(grant({ actions: ['read'] }));
    expect(isAllowed(readOnly, ask({ action: 'read' }))).toBe(true);
    expect(isAllowed(readOnly, ask({ action: 'publish' }))).toBe(false);
    expect(isAllowed(readOnly, ask({ action: 'subscribe' }))).toBe(false);
    const publishAndSubscribe = policy(grant({ actions: ['publish', 'subscribe'] }));
    expect(isAllowed(publishAndSubscribe, ask({ action: 'publish' }))).toBe(true);
    expect(isAllowed(publishAndSubscribe, ask({ action: 'subscribe' }))).toBe(true);
    expect(isAllowed(publishAndSubscribe, ask({ action: 'read' }))).toBe(false);
  });

  it.each([
    [resource, resource, true],
    [resource, `${resource}x`, false],
    [resource, resource.slice(0, -1), false],
    ['urn:altinn:resource:herald.*', resource, true],
    ['urn:altinn:resource:herald.*', 'urn:altinn:resource:herald.', true],
    ['urn:altinn:resource:herald.*', 'urn:altinn:resource:heraldx', false],
    ['urn:altinn:resource:herald.*', 'urn:other:resource:herald.a', false],
    [`${resource}*`, resource, true],
    ['*', resource, true],
    ['*', 'urn:anything:else', true],
  ])('resource pattern %s against %s: %s', (pattern, asked, expected) => {
    expect(isAllowed(policy(grant({ resources: [pattern] })), ask({ resource: asked }))).toBe(expected);
  });

  it('allows a resource that any of a grant\'s patterns matches', () => {
    const both = policy(grant({ resources: ['urn:altinn:resource:a', 'urn:altinn:resource:b*'] }));
    expect(isAllowed(both, ask({ resource: 'urn:altinn:resource:a' }))).toBe(true);
    expect(isAllowed(both, ask({ resource: 'urn:altinn:resource:bee' }))).toBe(true);
    expect(isAllowed(both, ask({ resource: 'urn:altinn:resource:c' }))).toBe(false);
  });

  it('a subjects list matches an event by its subject or its alternative subject', () => {
    const limited = policy(grant({ subjects: ['/party/1', '/person/01017012345'] }));
    expect(isAllowed(limited, ask(about('/party/1')))).toBe(true);
    expect(isAllowed(limited, ask(about(null, '/person/01017012345')))).toBe(true);
    expect(isAllowed(limited, ask(about('/party/2', '/party/1')))).toBe(true);
    expect(isAllowed(limited, ask(about('/party/2')))).toBe(false);
    expect(isAllowed(limited, ask(about('/party/2', '/party/3')))).toBe(false);
    expect(isAllowed(limited, ask(about('/party/10')))).toBe(false);
    // An event about nobody is not about a listed subject.
    expect(isAllowed(limited, ask(about(null, null)))).toBe(false);
  });

  it('"self" matches events whose subject or alternative subject is the caller itself', () => {
    const self = policy(grant({ consumer: '*', subjects: 'self' }));
    const caller = '/organisation/991825827';
    expect(isAllowed(self, ask({ consumer: caller, ...about(caller) }))).toBe(true);
    expect(isAllowed(self, ask({ consumer: caller, ...about('/party/1', caller) }))).toBe(true);
    expect(isAllowed(self, ask({ consumer: caller, ...about('/organisation/991825828') }))).toBe(false);
    expect(isAllowed(self, ask({ consumer: '/org/other', ...about('/party/1', caller) }))).toBe(false);
    expect(isAllowed(self, ask({ consumer: caller, ...about(null, null) }))).toBe(false);
  });

  it('subject limits apply to publishing an event as they do to reading it', () => {
    const limited = policy(grant({ actions: ['publish'], subjects: ['/party/1'] }));
    expect(isAllowed(limited, ask({ action: 'publish', ...about('/party/1') }))).toBe(true);
    expect(isAllowed(limited, ask({ action: 'publish', ...about('/party/2') }))).toBe(false);
  });

  it('a request without an event (creating a subscription) ignores subject limits', () => {
    expect(isAllowed(policy(grant({ actions: ['subscribe'], subjects: ['/party/1'] })), ask({ action: 'subscribe' }))).toBe(true);
    expect(isAllowed(policy(grant({ actions: ['subscribe'], subjects: 'self' })), ask({ action: 'subscribe' }))).toBe(true);
    // ...but not the resource, the consumer or the action.
    expect(isAllowed(policy(grant({ actions: ['subscribe'], subjects: 'self' })), ask({ action: 'subscribe', resource: 'urn:x:y' }))).toBe(false);
    expect(isAllowed(policy(grant({ actions: ['read'], subjects: 'self' })), ask({ action: 'subscribe' }))).toBe(false);
  });

  it('allows when any one grant allows everything asked, not a mix of grants', () => {
    const split = policy(
      grant({ actions: ['read'], resources: ['urn:altinn:resource:a'] }),
      grant({ actions: ['publish'], resources: ['urn:altinn:resource:b'] }),
    );
    expect(isAllowed(split, ask({ action: 'read', resource: 'urn:altinn:resource:a' }))).toBe(true);
    expect(isAllowed(split, ask({ action: 'publish', resource: 'urn:altinn:resource:b' }))).toBe(true);
    expect(isAllowed(split, ask({ action: 'read', resource: 'urn:altinn:resource:b' }))).toBe(false);
    expect(isAllowed(split, ask({ action: 'publish', resource: 'urn:altinn:resource:a' }))).toBe(false);
  });

  it('a subject-limited grant and an unlimited one for the same resource: the unlimited one decides', () => {
    const both = policy(grant({ subjects: ['/party/1'] }), grant({ consumer: '*' }));
    expect(isAllowed(both, ask(about('/party/2')))).toBe(true);
  });
});

describe('authorizers', () => {
  it('scopesOnly is not enforced and allows everything', () => {
    expect(scopesOnly.enforced).toBe(false);
    expect(scopesOnly.allows({ consumer: '/org/x', action: 'publish', resource })).toBe(true);
  });

  it('policyAuthorizer is enforced and asks the policy current at each call', () => {
    let current: Policy = { grants: [{ consumer: '/org/ttd', actions: ['read'], resources: [resource] }] };
    const authorizer = policyAuthorizer(() => current);
    const request: PolicyRequest = { consumer: '/org/ttd', action: 'read', resource };
    expect(authorizer.enforced).toBe(true);
    expect(authorizer.allows(request)).toBe(true);
    current = { grants: [] };
    expect(authorizer.allows(request)).toBe(false);
  });
});

describe('readsWholeResource', () => {
  const policy = {
    grants: [
      { consumer: '/org/ttd', actions: ['read'], resources: ['urn:altinn:resource:a'] },
      { consumer: '/org/ttd', actions: ['read'], resources: ['urn:altinn:resource:b'], subjects: ['/party/1'] },
      { consumer: '*', actions: ['subscribe'], resources: ['urn:altinn:resource:*'] },
      { consumer: '/org/ttd', actions: ['read'], resources: ['urn:altinn:resource:c*'] },
    ],
  } as const satisfies Policy;

  it('holds only for a read grant of the resource without subject limits, for that consumer', () => {
    expect(readsWholeResource(policy, '/org/ttd', 'urn:altinn:resource:a')).toBe(true);
    expect(readsWholeResource(policy, '/org/ttd', 'urn:altinn:resource:c-1')).toBe(true);
    expect(readsWholeResource(policy, '/org/ttd', 'urn:altinn:resource:b')).toBe(false);
    expect(readsWholeResource(policy, '/org/other', 'urn:altinn:resource:a')).toBe(false);
    expect(readsWholeResource(policy, '/org/ttd', 'urn:altinn:resource:d')).toBe(false);
    // Health events are granted to their owners by subject ("self") only.
    expect(readsWholeResource(policy, '/org/ttd', 'urn:herald:endpoint-health')).toBe(false);
  });
});
