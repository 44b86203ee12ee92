import { SignJWT } from 'jose';
import { scopes } from '../../src/domain/identity.js';

export const testSecret = 'herald-test-secret-that-is-long-enough-for-hs256';

export interface TestTokenOptions {
  readonly scope?: string;
  readonly claims?: Record<string, unknown>;
  /** Seconds from now; negative for an expired token. */
  readonly expiresIn?: number;
  readonly secret?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

/** Mints a token the test app accepts (unless told otherwise). */
export async function testToken(options: TestTokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({
    scope: options.scope ?? `${scopes.publish} ${scopes.subscribe}`,
    org: 'ttd',
    ...options.claims,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresIn ?? 3600));
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret ?? testSecret));
}
