import { parseCloudEvent, type ValidEvent } from './cloudevent.js';
import { isJsonMediaType, isTextMediaType, isUtf8, type MediaType } from './media-type.js';
import { isAscii } from './unicode-text.js';
import type { FieldError, Parsed } from './validation.js';

const cePrefix = 'ce-';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether a request carries any CloudEvents attribute header. */
export function hasCeHeaders(headers: Readonly<Record<string, unknown>>): boolean {
  return Object.keys(headers).some((name) => name.toLowerCase().startsWith(cePrefix));
}

/**
 * Reads a binary-mode CloudEvent (HTTP binding 1.0.2 §3.1): attributes from `ce-` headers, percent-decoded
 * once; `Content-Type` becomes `datacontenttype`; the body is the data, kept as JSON for JSON media types,
 * as a string for UTF-8 text, and as `data_base64` for anything else.
 */
export function parseBinaryEvent(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  contentType: string | undefined,
  mediaType: MediaType | undefined,
  body: Buffer | undefined,
): Parsed<ValidEvent> {
  const errors: FieldError[] = [];
  const event: Record<string, unknown> = {};
  for (const [rawName, rawValue] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (!name.startsWith(cePrefix) || rawValue === undefined) continue;
    const attribute = name.slice(cePrefix.length);
    if (attribute === 'data' || attribute === 'data_base64') {
      // In binary mode the body is the data; a header claiming to be it would be ignored or contradict it.
      errors.push({
        field: rawName,
        message: `Header '${rawName}' is not allowed: in binary mode the body is the data.`,
      });
      continue;
    }
    const value = Array.isArray(rawValue) ? rawValue.join(',') : rawValue;
    if (!isAscii(value)) {
      // Node reads header bytes as Latin-1: raw UTF-8 would be stored as other characters than were sent.
      errors.push({ field: rawName, message: nonAsciiHeader(rawName) });
      continue;
    }
    try {
      // Defined, not assigned: a `ce-__proto__` header must become an attribute (and be refused), not a prototype.
      Object.defineProperty(event, attribute, {
        value: decodeURIComponent(value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } catch {
      errors.push({ field: rawName, message: `Header '${rawName}' holds an invalid percent-encoding.` });
    }
  }
  if (contentType !== undefined && !isAscii(contentType)) {
    errors.push({ field: 'content-type', message: nonAsciiHeader('Content-Type') });
  } else if (contentType !== undefined) event.datacontenttype = contentType;

  if (body && body.length > 0) {
    const essence = mediaType?.essence ?? 'application/json';
    if (isJsonMediaType(essence)) {
      try {
        event.data = JSON.parse(decodeUtf8(body));
      } catch {
        errors.push({
          field: 'data',
          message: `The body is not valid JSON, as its media type '${essence}' says.`,
        });
      }
    } else if (isTextMediaType(essence) && mediaType && isUtf8(mediaType) && isValidUtf8(body)) {
      // Text in another charset stays bytes: decoding it as UTF-8 would change what it says.
      event.data = body.toString('utf8');
    } else {
      event.data_base64 = body.toString('base64');
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const parsed = parseCloudEvent(event);
  if (parsed.ok) return parsed;
  // Name headers, not attributes, so the producer knows what to fix in its request.
  return {
    ok: false,
    errors: parsed.errors.map((e) =>
      e.field === 'data' || e.field === 'data_base64'
        ? e
        : e.field === 'datacontenttype' && contentType !== undefined
          ? { field: 'content-type', message: e.message }
          : { field: cePrefix + e.field, message: e.message },
    ),
  };
}

function nonAsciiHeader(name: string): string {
  return (
    `Header '${name}' holds characters outside ASCII: percent-encode their UTF-8 bytes ` +
    '(CloudEvents HTTP binding 1.0.2 §3.1.3.2).'
  );
}

function decodeUtf8(body: Buffer): string {
  return strictUtf8.decode(body);
}

function isValidUtf8(body: Buffer): boolean {
  try {
    strictUtf8.decode(body);
    return true;
  } catch {
    return false;
  }
}
