import { accepted, type FieldError, type Parsed } from './validation.js';

/** How long the replaced secret keeps signing beside the new one, unless the request says otherwise. */
export const defaultGraceSeconds = 24 * 60 * 60;
/** The longest grace period a rotation may ask for: two secrets sign every delivery meanwhile. */
export const maxGraceSeconds = 7 * 24 * 60 * 60;

/** A validated `POST /subscriptions/{id}/secret/rotate`. */
export interface SecretRotationRequest {
  /** How long the replaced secret still signs, in ms; 0: it stops at once. */
  readonly graceMs: number;
}

const fields = ['graceSeconds'];

export const secretRotationMessages = {
  notAnObject: 'A rotation request must be a JSON object, or no body at all.',
  graceSeconds: `'graceSeconds' must be a whole number of seconds from 0 to ${maxGraceSeconds} (7 days).`,
} as const;

/**
 * Validates a rotation request: no body, an empty object or a null `graceSeconds` means the default grace period
 * of 24 hours.
 * Unknown fields are refused, so a misspelt `graceSecond` cannot silently leave the old secret valid for a day.
 * @example parseSecretRotationRequest({ graceSeconds: 3600 }) // { ok: true, value: { graceMs: 3_600_000 } }
 */
export function parseSecretRotationRequest(body: unknown): Parsed<SecretRotationRequest> {
  if (body === undefined) return accepted({ graceMs: defaultGraceSeconds * 1000 });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: 'body', message: secretRotationMessages.notAnObject }] };
  }
  const errors: FieldError[] = [];
  const given = body as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!fields.includes(name)) {
      errors.push({ field: name, message: `'${name}' is not a field of a rotation request (${fields.join(', ')}).` });
    }
  }
  const grace = given.graceSeconds ?? defaultGraceSeconds;
  if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > maxGraceSeconds) {
    errors.push({ field: 'graceSeconds', message: secretRotationMessages.graceSeconds });
  }
  if (errors.length > 0) return { ok: false, errors };
  return accepted({ graceMs: (grace as number) * 1000 });
}

/** A subscription's signing secrets as stored: the newest, and the one it replaced while its grace period lasts. */
export interface SigningSecrets {
  readonly secret: string;
  readonly previousSecret: string | null;
  /** Epoch ms; the previous secret signs before this instant only. */
  readonly previousSecretUntil: number | null;
}

/**
 * The secrets that sign a message sent at `now`: the newest first, then the replaced one until its grace period
 * ends.
 * @example secretsInUse({ secret: 'whsec_new', previousSecret: 'whsec_old', previousSecretUntil: 2_000 }, 1_000) // ['whsec_new', 'whsec_old']
 */
export function secretsInUse(secrets: SigningSecrets, now: number): string[] {
  const { secret, previousSecret, previousSecretUntil } = secrets;
  return previousSecret !== null && previousSecretUntil !== null && now < previousSecretUntil ? [secret, previousSecret] : [secret];
}
