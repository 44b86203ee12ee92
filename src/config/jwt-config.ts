import { parseDuration } from '../domain/duration.js';
import { nonEmpty } from './non-empty.js';

/** Where verification keys come from; `development` means a generated secret in the data folder. */
export type JwtKeySource =
  | { readonly kind: 'secret'; readonly secret: string }
  | { readonly kind: 'publicKey'; readonly pem: string }
  | { readonly kind: 'jwks'; readonly url: string; readonly maxAgeMs: number }
  | { readonly kind: 'development' };

export interface JwtConfig {
  readonly keys: JwtKeySource;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
}

/** HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY or HERALD_JWKS_URL (at most one), with the issuer and audience to check. */
export function readJwtConfig(
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
  defaultJwksMaxAge: string,
): JwtConfig {
  const secret = nonEmpty(env.HERALD_JWT_SECRET);
  const pem = nonEmpty(env.HERALD_JWT_PUBLIC_KEY)?.replace(/\\n/g, '\n');
  const jwksUrl = nonEmpty(env.HERALD_JWKS_URL);
  const given = [secret, pem, jwksUrl].filter((v) => v !== undefined).length;
  if (given > 1) {
    problems.push('Set only one of HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY and HERALD_JWKS_URL.');
  }
  if (secret !== undefined && Buffer.byteLength(secret) < 32) {
    problems.push('HERALD_JWT_SECRET must be at least 32 bytes long (HS256 needs 256 bits of key).');
  }
  if (pem !== undefined && !pem.includes('-----BEGIN PUBLIC KEY-----')) {
    problems.push('HERALD_JWT_PUBLIC_KEY must hold a PEM public key (-----BEGIN PUBLIC KEY-----).');
  }
  if (jwksUrl !== undefined && !/^https?:\/\/\S+$/.test(jwksUrl))
    problems.push('HERALD_JWKS_URL must be an http(s) URL.');
  const jwksMaxAgeMs = parseDuration(nonEmpty(env.HERALD_JWKS_MAX_AGE) ?? defaultJwksMaxAge);
  if (jwksMaxAgeMs === undefined || jwksMaxAgeMs < 1_000) {
    problems.push('HERALD_JWKS_MAX_AGE must be a duration of at least 1s, such as 5m.');
  }
  const keys: JwtKeySource =
    secret !== undefined
      ? { kind: 'secret', secret }
      : pem !== undefined
        ? { kind: 'publicKey', pem }
        : jwksUrl !== undefined
          ? { kind: 'jwks', url: jwksUrl, maxAgeMs: jwksMaxAgeMs ?? 0 }
          : { kind: 'development' };
  return { keys, issuer: nonEmpty(env.HERALD_JWT_ISSUER), audience: nonEmpty(env.HERALD_JWT_AUDIENCE) };
}
