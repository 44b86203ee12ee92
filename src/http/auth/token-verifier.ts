import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  createRemoteJWKSet,
  errors,
  type ExportedJWKSCache,
  jwksCache,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
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
  | {
      readonly kind: 'jwks';
      readonly url: string;
      /**
       * How old a fetched key set may be (HERALD_JWKS_MAX_AGE): it is fetched again after this, and a token it
       * verified is remembered no longer than this after that fetch, so a key removed from the JWKS stops
       * working within this time. Default 5 minutes.
       */
      readonly maxAgeMs?: number;
    };

export interface TokenVerifierOptions {
  readonly key: VerificationKey;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  /** How many verified tokens to remember. */
  readonly cacheSize?: number;
}

/** Tokens without `exp` are re-verified at least this often. */
const uncachedLifetimeMs = 60_000;

export const defaultJwksMaxAgeMs = 5 * 60_000;

/** A verified token, and until when it may be taken on trust. */
interface Remembered {
  readonly principal: Principal;
  readonly validUntil: number;
}

/**
 * Verifies JWTs with jose and remembers each verified token until it expires. Verifying a signature costs
 * more than storing an event, and producers send the same token with every request (DESIGN.md §2); the cache
 * is bounded and keyed by the whole token, so a changed token is always verified afresh.
 *
 * With a JWKS, a token is remembered only as long as the key set that verified it is current: until its
 * fetch is `maxAgeMs` old. Then the token is verified again, against a key set fetched anew, so a key the
 * identity provider removed stops working within `maxAgeMs` for every token, remembered or not. That costs
 * one verification per token per `maxAgeMs` (and one fetch per `maxAgeMs` for all tokens together).
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { key, algorithms, keysFetchedAt, keysMaxAgeMs } = resolveKey(options.key);
  const cacheSize = options.cacheSize ?? 10_000;
  const verified = new Map<string, Remembered>();

  return {
    async verify(token) {
      const now = Date.now();
      const remembered = verified.get(token);
      if (remembered && remembered.validUntil > now) return remembered.principal;
      if (remembered) verified.delete(token);

      let payload: JWTPayload;
      // The fetch time of the key set that supplied the key, taken when it did (another fetch may finish
      // before the signature is checked).
      let fetchedAt: number | undefined;
      const getKey: JWTVerifyGetKey | Uint8Array | KeyObject =
        typeof key === 'function'
          ? async (header, input) => {
              const found = await key(header, input);
              fetchedAt = keysFetchedAt();
              return found;
            }
          : key;
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
          'The token names no caller: it needs an org, userId, orgNumber or sub claim, of well-formed text and at most 1,024 characters once percent-encoded.',
        );

      let validUntil = payload.exp !== undefined ? payload.exp * 1000 : now + uncachedLifetimeMs;
      if (fetchedAt !== undefined) validUntil = Math.min(validUntil, fetchedAt + keysMaxAgeMs);
      if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string);
      verified.set(token, { principal, validUntil });
      return principal;
    },
  };
}

interface ResolvedKey {
  readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
  readonly algorithms: string[];
  /** When the key set in use was fetched; `undefined` for keys that are configuration and never change. */
  readonly keysFetchedAt: () => number | undefined;
  readonly keysMaxAgeMs: number;
}

function resolveKey(key: VerificationKey): ResolvedKey {
  const configured = { keysFetchedAt: () => undefined, keysMaxAgeMs: Infinity };
  switch (key.kind) {
    case 'secret':
      return { ...configured, key: new TextEncoder().encode(key.secret), algorithms: ['HS256', 'HS384', 'HS512'] };
    case 'publicKey': {
      const publicKey = createPublicKey(key.pem);
      return { ...configured, key: publicKey, algorithms: algorithmsFor(publicKey) };
    }
    case 'jwks': {
      const maxAgeMs = key.maxAgeMs ?? defaultJwksMaxAgeMs;
      // jose records each successful fetch's time (`uat`) in this object: the age of the keys in use.
      const fetched: Partial<ExportedJWKSCache> = {};
      return {
        key: createRemoteJWKSet(new URL(key.url), {
          cacheMaxAge: maxAgeMs,
          cooldownDuration: Math.min(30_000, maxAgeMs),
          [jwksCache]: fetched as ExportedJWKSCache,
        }),
        keysFetchedAt: () => fetched.uat,
        keysMaxAgeMs: maxAgeMs,
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
