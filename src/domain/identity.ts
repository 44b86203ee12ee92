/** The scopes Herald's API is guarded by (Altinn's names). */
export const scopes = {
  publish: 'altinn:events.publish',
  publishAdmin: 'altinn:events.publish.admin',
  subscribe: 'altinn:events.subscribe',
} as const;

/** Who is calling: the consumer identity used for ownership, and what the token allows. */
export interface Principal {
  /** e.g. `/org/ttd`, `/user/1337`, `/organisation/991825827`, or the token's `sub`. */
  readonly consumer: string;
  readonly scopes: ReadonlySet<string>;
}

/**
 * Derives the caller from verified token claims, first match wins: `org`, `userId`, `orgNumber` (or the org
 * number in a Maskinporten `consumer` claim), then `sub`. Altinn derives the same identities.
 * @returns `undefined` when the token names nobody.
 */
export function principalFromClaims(claims: Readonly<Record<string, unknown>>): Principal | undefined {
  const consumer = consumerFromClaims(claims);
  if (consumer === undefined) return undefined;
  return { consumer, scopes: scopesFromClaims(claims) };
}

function consumerFromClaims(claims: Readonly<Record<string, unknown>>): string | undefined {
  // Altinn's own tokens carry the same claims under `urn:altinn:` names.
  const org = claimText(claims.org) ?? claimText(claims['urn:altinn:org']);
  if (org) return `/org/${org}`;
  const userId =
    claimText(claims.userId) ?? claimText(claims.userid) ?? claimText(claims['urn:altinn:userid']);
  if (userId) return `/user/${userId}`;
  const orgNumber =
    claimText(claims.orgNumber) ??
    claimText(claims['urn:altinn:orgNumber']) ??
    maskinportenOrgNumber(claims.consumer);
  if (orgNumber) return `/organisation/${orgNumber}`;
  return claimText(claims.sub);
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

/** Whether the caller holds at least one of the scopes. */
export function hasAnyScope(principal: Principal, required: readonly string[]): boolean {
  return required.some((scope) => principal.scopes.has(scope.toLowerCase()));
}
