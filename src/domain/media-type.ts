/** A `Content-Type` reduced to what Herald decides on: the lower-cased `type/subtype` and the charset. */
export interface MediaType {
  readonly essence: string;
  readonly charset: string | undefined;
}

/** @example parseMediaType('Application/CloudEvents+JSON; charset=UTF-8') // { essence: 'application/cloudevents+json', charset: 'utf-8' } */
export function parseMediaType(header: string | undefined): MediaType | undefined {
  if (!header) return undefined;
  const [essence = '', ...parameters] = header.split(';');
  const normalized = essence.trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(normalized)) return undefined;
  let charset: string | undefined;
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() === 'charset') charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { essence: normalized, charset };
}

export function isJsonMediaType(essence: string): boolean {
  return essence === 'application/json' || essence.endsWith('+json');
}

export function isTextMediaType(essence: string): boolean {
  return essence.startsWith('text/');
}

export function isUtf8(mediaType: MediaType): boolean {
  return mediaType.charset === undefined || mediaType.charset === 'utf-8' || mediaType.charset === 'utf8';
}
