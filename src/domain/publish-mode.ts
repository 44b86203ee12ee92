import { isUtf8, type MediaType } from './media-type.js';

/** The three content modes of the CloudEvents HTTP binding (1.0.2 §3). */
export type PublishMode = 'structured' | 'batch' | 'binary';

/**
 * Decides how a publish request is to be read. The media type decides first: the CloudEvents types are
 * structured and batch whatever `ce-` headers come along; any other type with `ce-` headers is binary; plain
 * JSON without them is a structured event, as Altinn's own clients send it.
 * @returns `undefined` for a request Herald cannot read (answered 415).
 */
export function choosePublishMode(
  mediaType: MediaType | undefined,
  hasCeHeaders: boolean,
): PublishMode | undefined {
  const essence = mediaType?.essence;
  if (essence === 'application/cloudevents+json')
    return mediaType && isUtf8(mediaType) ? 'structured' : undefined;
  if (essence === 'application/cloudevents-batch+json')
    return mediaType && isUtf8(mediaType) ? 'batch' : undefined;
  if (hasCeHeaders) return 'binary';
  if (essence === 'application/json') return mediaType && isUtf8(mediaType) ? 'structured' : undefined;
  return undefined;
}
