import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { type Principal, principalFromClaims } from '../../domain/identity.js';

/** Why a token was refused; the message is safe to show the caller. */
export class TokenRejected extends Error {}

/** The keys to verify tokens could not be fetched (a JWKS endpoint is down): not the caller's fault. */
export class VerificationKeysUnavailable extends Error {}

export interface TokenVerifier {
  /** Verifies a bearer token and names its caller, or throws `TokenRejected`. */
  verify(token: string): Promise<Principal>;
}

export type VerificationKey =
  | { readonly kind: 'secret'; readonly secret: string }
  | { readonly kind: 'publicKey'; readonly pem: string }
  | { readonly kind: 'jwks'; readonly url: string };

export interface TokenVerifierOptions {
  readonly key: VerificationKey;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  /** How many verified tokens to remember. */
  readonly cacheSize?: number;
}

/** Tokens without `exp` are re-verified at least this often. */
const uncachedLifetimeMs = 60_000;

/**
 * Verifies JWTs with jose and remembers each verified token until it expires. Verifying a signature costs
 * more than storing an event, and producers send the same token with every request (DESIGN.md §2); the cache
 * is bounded and keyed by the whole token, so a changed token is always verified afresh.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { key: getKey, algorithms } = resolveKey(options.key);
  const cacheSize = options.cacheSize ?? 10_000;
  const verified = new Map<string, { principal: Principal; validUntil: number }>();

  return {
    async verify(token) {
      const now = Date.now();
      const remembered = verified.get(token);
      if (remembered && remembered.validUntil > now) return remembered.principal;
      if (remembered) verified.delete(token);

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey as JWTVerifyGetKey, {
          algorithms,
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: 5,
        }));
      } catch (error) {
        if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
          throw new VerificationKeysUnavailable('The keys that verify tokens could not be fetched.', { cause: error });
        }
        throw new TokenRejected(describeRejection(error));
      }
      const principal = principalFromClaims(payload);
      if (!principal)
        throw new TokenRejected(
          'The token names no caller: it needs an org, userId, orgNumber or sub claim.',
        );

      const validUntil = payload.exp !== undefined ? payload.exp * 1000 : now + uncachedLifetimeMs;
      if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string);
      verified.set(token, { principal, validUntil });
      return principal;
    },
  };
}

function resolveKey(key: VerificationKey): {
  key: Uint8Array | KeyObject | JWTVerifyGetKey;
  algorithms: string[];
} {
  switch (key.kind) {
    case 'secret':
      return { key: new TextEncoder().encode(key.secret), algorithms: ['HS256', 'HS384', 'HS512'] };
    case 'publicKey': {
      const publicKey = createPublicKey(key.pem);
      return { key: publicKey, algorithms: algorithmsFor(publicKey) };
    }
    case 'jwks':
      return {
        key: createRemoteJWKSet(new URL(key.url)),
        algorithms: [
          'RS256',
          'RS384',
          'RS512',
          'PS256',
          'PS384',
          'PS512',
          'ES256',
          'ES384',
          'ES512',
          'EdDSA',
        ],
      };
  }
}

function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec':
      return ['ES256', 'ES384', 'ES512'];
    default:
      return ['EdDSA'];
  }
}

function describeRejection(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `The token's '${error.claim}' claim is not accepted.`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "The token's signature is not valid.";
  if (error instanceof errors.JOSEAlgNotAllowed) return "The token's signing algorithm is not accepted.";
  if (error instanceof errors.JWKSNoMatchingKey) return 'No known key matches the token.';
  return 'The token is malformed.';
}
