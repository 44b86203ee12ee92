import { readFile } from 'node:fs/promises';
import { HeraldClient, type RetryInfo, type TokenSource } from '@herald/client';
import { usageError } from '../command-error.js';

/** Where Herald is when neither `--url` nor HERALD_URL says: `herald serve` with its default PORT. */
export const defaultHeraldUrl = 'http://localhost:8080';

/** The options every consumer command takes to reach Herald. */
export const connectionOptions = {
  url: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
} as const;

export interface ConnectionValues {
  readonly url?: string | undefined;
  readonly token?: string | undefined;
  readonly 'token-file'?: string | undefined;
}

/**
 * A client for the Herald the flags or the environment name, telling stderr of every retry. The token comes
 * from `--token`, else `--token-file`, else HERALD_TOKEN; it is never printed.
 */
export async function connect(command: string, values: ConnectionValues, env = process.env): Promise<HeraldClient> {
  const url = values.url ?? env.HERALD_URL ?? defaultHeraldUrl;
  if (!/^https?:\/\/[^/]/.test(url)) throw usageError(`${command}: '${url}' is not an http(s) URL (--url or HERALD_URL).`);
  if (values.token !== undefined && values['token-file'] !== undefined) {
    throw usageError(`${command}: give --token or --token-file, not both.`);
  }
  const tokenFile = values['token-file'];
  let token: TokenSource | undefined = values.token ?? (env.HERALD_TOKEN || undefined);
  if (tokenFile !== undefined) {
    const read = async () => (await readFile(tokenFile, 'utf8')).trim();
    try {
      await read();
    } catch (error) {
      throw usageError(`${command}: cannot read --token-file ${tokenFile}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}.`);
    }
    // Read again before every request, so a long `--follow` picks up a token refreshed in the file.
    token = read;
  }
  return new HeraldClient({ baseUrl: url, token, onRetry: reportRetry });
}

function reportRetry(info: RetryInfo): void {
  const reason = typeof info.reason === 'number' ? `answered ${info.reason}` : `unreachable (${info.reason.message})`;
  process.stderr.write(`herald: ${info.method} ${new URL(info.url).pathname}: Herald ${reason}; trying again in ${Math.ceil(info.delayMs / 1000)} s\n`);
}
