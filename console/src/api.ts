import { session } from './session.js';

/** Where the API lives, relative to the page's origin (Herald serves both). */
export const apiBase = '/events/api/v1';

/** An answer that was not 2xx: its RFC 9457 problem's title and detail, or what the status says. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly code: string | undefined,
  ) {
    super(detail ? `${title} ${detail}` : title);
  }
}

/** Told when Herald answers 401: the console signs out and shows the sign-in again. */
let onUnauthenticated: (error: ApiError) => void = () => {};
export function whenUnauthenticated(handler: (error: ApiError) => void): void {
  onUnauthenticated = handler;
}

/** Turns a failed answer into an ApiError, reading its problem details when there are some. */
export async function problemOf(response: Response): Promise<ApiError> {
  let problem: { title?: unknown; detail?: unknown; code?: unknown } = {};
  try {
    problem = (await response.json()) as typeof problem;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return new ApiError(
    response.status,
    text(problem.title) ?? `Herald answered ${response.status} ${response.statusText}`.trim(),
    text(problem.detail),
    text(problem.code),
  );
}

export interface CallOptions {
  readonly method?: 'GET' | 'POST' | 'DELETE';
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  readonly headers?: Record<string, string>;
}

/** Sends a request with the session's token; a 401 signs out (and still throws). */
export async function send(path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const token = session.token();
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${apiBase}${path}`, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? null : JSON.stringify(options.body),
    signal: options.signal ?? null,
    // Never a cookie: the token is the only credential.
    credentials: 'omit',
    cache: 'no-store',
  });
  if (response.ok) return response;
  throw await failed(response);
}

/** The ApiError of a failed answer; a 401 also signs out. */
export async function failed(response: Response): Promise<ApiError> {
  const error = await problemOf(response);
  if (response.status === 401) onUnauthenticated(error);
  return error;
}

/** A JSON answer (or undefined for an empty one). */
export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const response = await send(path, options);
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** True when the error says the endpoint is not in this Herald (the feature has not landed). */
export const isMissing = (error: unknown): boolean => error instanceof ApiError && (error.status === 404 || error.status === 405);

/** A problem found in the page itself (a field that is not JSON), shown like the API's. */
export const localProblem = (title: string, detail?: string) => new ApiError(0, title, detail, undefined);
