/**
 * The scopes Herald's API is guarded by: Altinn's names, and Herald's own `herald:operator` (read and act on
 * every consumer's subscriptions through the API, as the `herald subscriptions` commands do on the database:
 * docs/operators.md).
 */
export const scopes = {
  publish: 'altinn:events.publish',
  publishAdmin: 'altinn:events.publish.admin',
  subscribe: 'altinn:events.subscribe',
  operator: 'herald:operator',
} as const;

/** Who is calling: the consumer identity used for ownership, and what the token allows. */
export interface Principal {
  /** e.g. `/org/ttd`, `/user/1337`, `/organisation/991825827` or `/sub/client-7`: see `consumerIdentity`. */
  readonly consumer: string;
  readonly scopes: ReadonlySet<string>;
}

/**
 * The namespaces consumer identities live in, one per kind of claim, so that no claim's value can be read as
 * an identity another claim derives: a `sub` of `/org/ttd` is `/sub/%2Forg%2Fttd`, never `/org/ttd`.
 */
export const consumerNamespaces = ['org', 'user', 'organisation', 'sub'] as const;
export type ConsumerNamespace = (typeof consumerNamespaces)[number];

/**
 * A claim value written into its namespace: `/{namespace}/{value}`, the value percent-encoded as
 * `encodeURIComponent` does (everything but letters, digits and `-_.!~*'()`; `/` is `%2F`, `%` is `%25`), so
 * the value is one path segment and two values never give one identity.
 * @returns `undefined` for a value that is not well-formed Unicode (an unpaired surrogate), which no
 *   identity can faithfully hold, or one longer than `maxIdentityLength` encoded.
 * @example consumerIdentity('sub', 'auth0|42') // '/sub/auth0%7C42'
 */
export function consumerIdentity(namespace: ConsumerNamespace, value: string): string | undefined {
  let identity: string;
  try {
    identity = `/${namespace}/${encodeURIComponent(value)}`;
  } catch {
    return undefined;
  }
  // Percent-encoded, it is ASCII: its length is its size. A longer one could not be indexed (docs/isolation.md).
  return identity.length <= maxIdentityLength ? identity : undefined;
}

/** The longest consumer identity, encoded: it is stored in indexed columns, and no real claim comes near it. */
export const maxIdentityLength = 1_024;

/**
 * Reads an identity as Herald writes it, or `undefined` for any other text (a bare `sub` as older Herald
 * stored it, an unknown namespace, `%2f` where Herald writes `%2F`): what an operator or a policy names must
 * be an identity a token can have.
 */
export function parseConsumer(text: string): { namespace: ConsumerNamespace; value: string } | undefined {
  const match = /^\/([a-z]+)\/([^/]+)$/.exec(text);
  const namespace = consumerNamespaces.find((n) => n === match?.[1]);
  if (!match || !namespace) return undefined;
  let value: string;
  try {
    value = decodeURIComponent(match[2] ?? '');
  } catch {
    return undefined;
  }
  return consumerIdentity(namespace, value) === text ? { namespace, value } : undefined;
}

/**
 * Derives the caller from verified token claims, first match wins: `org`, `userId`, `orgNumber` (or the org
 * number in a Maskinporten `consumer` claim), then `sub`, each in its own namespace. Altinn derives the
 * first three the same way.
 * @returns `undefined` when the token names nobody, or names the caller with text no identity can hold.
 */
export function principalFromClaims(claims: Readonly<Record<string, unknown>>): Principal | undefined {
  const consumer = consumerFromClaims(claims);
  if (consumer === undefined) return undefined;
  return { consumer, scopes: scopesFromClaims(claims) };
}

function consumerFromClaims(claims: Readonly<Record<string, unknown>>): string | undefined {
  // Altinn's own tokens carry the same claims under `urn:altinn:` names.
  const org = claimText(claims.org) ?? claimText(claims['urn:altinn:org']);
  if (org) return consumerIdentity('org', org);
  const userId =
    claimText(claims.userId) ?? claimText(claims.userid) ?? claimText(claims['urn:altinn:userid']);
  if (userId) return consumerIdentity('user', userId);
  const orgNumber =
    claimText(claims.orgNumber) ??
    claimText(claims['urn:altinn:orgNumber']) ??
    maskinportenOrgNumber(claims.consumer);
  if (orgNumber) return consumerIdentity('organisation', orgNumber);
  const sub = claimText(claims.sub);
  return sub ? consumerIdentity('sub', sub) : undefined;
}

/** Maskinporten's `consumer` claim: `{ "authority": "iso6523-actorid-upis", "ID": "0192:991825827" }`. */
function maskinportenOrgNumber(consumer: unknown): string | undefined {
  if (typeof consumer !== 'object' || consumer === null) return undefined;
  const id = claimText((consumer as Record<string, unknown>).ID);
  return id?.split(':').pop() || undefined;
}

function claimText(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Scopes are space-separated in `scope` (or a list), compared case-insensitively as Altinn does. */
function scopesFromClaims(claims: Readonly<Record<string, unknown>>): ReadonlySet<string> {
  const raw = claims.scope ?? claims['urn:altinn:scope'];
  const list =
    typeof raw === 'string'
      ? raw.split(' ')
      : Array.isArray(raw)
        ? raw.filter((s) => typeof s === 'string')
        : [];
  return new Set(list.filter((s: string) => s.length > 0).map((s: string) => s.toLowerCase()));
}

/** Whether the caller is an operator: may read every consumer's subscriptions, disable and enable them. */
export function isOperator(principal: Principal): boolean {
  return hasAnyScope(principal, [scopes.operator]);
}

/** Whether the caller holds at least one of the scopes. */
export function hasAnyScope(principal: Principal, required: readonly string[]): boolean {
  return required.some((scope) => principal.scopes.has(scope.toLowerCase()));
}
