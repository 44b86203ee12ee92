import type { FastifyRequest } from 'fastify';

/**
 * Query parameters whose values are personal data (a subject such as `/person/16069412345`): their values
 * never reach a log line. Compared case-insensitively and after percent-decoding the name, so no spelling of
 * the name that a client can send slips through.
 */
const personalParameters = new Set(['subject', 'alternativesubject']);

const redacted = '[redacted]';

/**
 * A request URL as it may be logged: the path and every parameter kept, the values of personal ones replaced.
 * @example redactedUrl('/events?after=0&subject=/person/1') // '/events?after=0&subject=[redacted]'
 */
export function redactedUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const query = url
    .slice(queryStart + 1)
    .split('&')
    .map((parameter) => {
      const nameEnd = parameter.indexOf('=');
      const name = nameEnd === -1 ? parameter : parameter.slice(0, nameEnd);
      return personalParameters.has(decodedName(name)) ? `${name}=${redacted}` : parameter;
    })
    .join('&');
  return `${url.slice(0, queryStart)}?${query}`;
}

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    // Not decodable: whatever the query parser makes of it, it is not the name, spelled any way.
    return name.toLowerCase();
  }
}

/** Fastify's request serializer, with the URL redacted: what each request's log lines say about it. */
export function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: redactedUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
