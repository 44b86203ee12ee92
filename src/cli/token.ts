import { SignJWT } from 'jose';
import type { HeraldConfig } from '../config/config.js';
import { parseDuration } from '../domain/duration.js';
import { scopes } from '../domain/identity.js';
import { verificationKey } from '../server.js';

export interface TokenOptions {
  readonly scope?: string | undefined;
  readonly org?: string | undefined;
  readonly sub?: string | undefined;
  readonly ttl?: string | undefined;
  /** Adds the operator scope (`herald:operator`) to the others (docs/operators.md). */
  readonly operator?: boolean | undefined;
}

export const defaultTokenScope = `${scopes.publish} ${scopes.subscribe}`;

/**
 * `herald token`: mints an HS256 token with the configured secret or the development secret, carrying the
 * configured issuer and audience so that this Herald accepts it.
 */
export async function mintToken(config: HeraldConfig, options: TokenOptions): Promise<string> {
  const key = verificationKey(config);
  if (key.kind !== 'secret') {
    throw new Error(
      'herald token signs with a shared secret; this Herald verifies public keys. Use your identity provider.',
    );
  }
  const ttl = parseDuration(options.ttl ?? '1h');
  if (ttl === undefined || ttl <= 0)
    throw new Error(`--ttl must be a duration such as 30m, 1h or 7d, not '${options.ttl}'.`);
  const claims: Record<string, string> = { scope: tokenScope(options) };
  if (options.org) claims.org = options.org;
  if (!options.org && !options.sub) claims.org = 'dev';
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor((Date.now() + ttl) / 1000));
  if (options.sub) jwt.setSubject(options.sub);
  if (config.jwt.issuer) jwt.setIssuer(config.jwt.issuer);
  if (config.jwt.audience) jwt.setAudience(config.jwt.audience);
  return jwt.sign(new TextEncoder().encode(key.secret));
}

/**
 * The token's `scope`: the given scopes (or the default ones), with the operator scope added once for `--operator`.
 * @example tokenScope({ operator: true }) // 'altinn:events.publish altinn:events.subscribe herald:operator'
 */
export function tokenScope(options: Pick<TokenOptions, 'scope' | 'operator'>): string {
  const given = (options.scope ?? defaultTokenScope).split(' ').filter((s) => s.length > 0);
  if (options.operator && !given.some((s) => s.toLowerCase() === scopes.operator)) given.push(scopes.operator);
  return given.join(' ');
}
