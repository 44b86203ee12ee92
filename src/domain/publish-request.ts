import { parseBinaryEvent } from './binary-event.js';
import { parseCloudEvent, type ValidEvent } from './cloudevent.js';
import type { MediaType } from './media-type.js';
import type { PublishMode } from './publish-mode.js';
import { accepted, type FieldError, type Parsed, refused } from './validation.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A publish request as it arrived: its content mode, headers and raw body. */
export interface PublishRequest {
  readonly mode: PublishMode;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly contentType: string | undefined;
  readonly mediaType: MediaType | undefined;
  readonly body: Buffer | undefined;
}

/**
 * Reads every event of a publish request. A batch is all or nothing: one invalid item refuses it, and each
 * error names its item (`[3].resource`).
 */
export function readPublishRequest(request: PublishRequest): Parsed<ValidEvent[]> {
  if (request.mode === 'binary') {
    const event = parseBinaryEvent(request.headers, request.contentType, request.mediaType, request.body);
    return event.ok ? accepted([event.value]) : event;
  }
  const json = parseJsonBody(request.body);
  if (!json.ok) return json;
  if (request.mode === 'structured') {
    const event = parseCloudEvent(json.value);
    return event.ok ? accepted([event.value]) : event;
  }
  if (!Array.isArray(json.value)) return refused('body', 'A batch must be a JSON array of CloudEvents.');
  const events: ValidEvent[] = [];
  const errors: FieldError[] = [];
  json.value.forEach((item: unknown, index: number) => {
    const event = parseCloudEvent(item, `[${index}].`);
    if (event.ok) events.push(event.value);
    else errors.push(...event.errors);
  });
  return errors.length > 0 ? { ok: false, errors } : accepted(events);
}

function parseJsonBody(body: Buffer | undefined): Parsed<unknown> {
  if (!body || body.length === 0)
    return refused('body', 'The request body is empty: it must hold a CloudEvent.');
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    return refused('body', 'The request body is not valid UTF-8.');
  }
  try {
    return accepted(JSON.parse(text));
  } catch (error) {
    return refused('body', `The request body is not valid JSON: ${(error as Error).message}`);
  }
}
