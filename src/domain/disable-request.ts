import { hasControlCharacters } from './control-characters.js';
import { hasLoneSurrogate } from './unicode-text.js';
import { accepted, type FieldError, type Parsed } from './validation.js';

/** What an operator's disable says: why, shown to the owner as the subscription's `lastError`. */
export interface DisableRequest {
  /** Unset: `defaultDisableReason`. */
  readonly reason?: string | undefined;
}

/** Recorded as the subscription's last error when no reason is given, so its owner knows who turned it off. */
export const defaultDisableReason = 'Disabled by an operator.';

/** A reason is one line for a person to read: it ends up in the owner's `lastError` and in 409 details. */
export const maxDisableReasonLength = 500;

export const disableMessages = {
  notAnObject: "A disable request must be a JSON object such as { \"reason\": \"…\" } (or no body).",
  reason: `'reason' must be text of 1 to ${maxDisableReasonLength} characters, on one line.`,
} as const;

/**
 * Validates an operator's disable request (the API's body, or the CLI's `--reason`): no body, or an object with
 * an optional `reason`. Unknown fields are refused, so a misspelt `reson` is not silently dropped.
 * @example parseDisableRequest({ reason: 'Endpoint answers with personal data of others.' })
 */
export function parseDisableRequest(body: unknown): Parsed<DisableRequest> {
  if (body === undefined || body === null) return accepted({});
  if (typeof body !== 'object' || Array.isArray(body)) return { ok: false, errors: [{ field: 'body', message: disableMessages.notAnObject }] };
  const errors: FieldError[] = [];
  for (const name of Object.keys(body)) {
    if (name !== 'reason') errors.push({ field: name, message: `'${name}' is not a field of a disable request (reason).` });
  }
  const { reason } = body as { reason?: unknown };
  if (
    reason !== undefined &&
    (typeof reason !== 'string' ||
      reason.trim().length === 0 ||
      reason.length > maxDisableReasonLength ||
      hasControlCharacters(reason) ||
      hasLoneSurrogate(reason))
  ) {
    errors.push({ field: 'reason', message: disableMessages.reason });
  }
  return errors.length > 0 ? { ok: false, errors } : accepted({ reason: reason as string | undefined });
}
