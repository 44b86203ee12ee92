import { HeraldConnectionError, HeraldProblemError } from '@herald/client';
import { CommandError } from '../command-error.js';

/** Exit code of a consumer command that Herald refused, or could not be reached for. */
export const heraldFailed = 1;

/**
 * Herald's refusal (or its absence) as the command's failure: the problem's title, status and code on the
 * first line, then its detail and each field's messages, so a refused batch says which event is wrong.
 */
export function asCommandFailure(command: string, error: unknown): unknown {
  if (error instanceof HeraldProblemError) {
    const head = `${command}: Herald answered ${error.status}${error.code ? ` ${error.code}` : ''}${error.title ? ` (${error.title})` : ''}`;
    const lines = [head];
    // The client's message carries advice for a refused cursor or checkpoint; Herald's detail otherwise.
    const detail = error.message.startsWith('Herald answered') ? error.detail : error.message;
    if (detail) lines.push(`  ${detail}`);
    for (const [field, messages] of Object.entries(error.errors ?? {})) {
      for (const message of messages) lines.push(`  ${field}: ${message}`);
    }
    return new CommandError(lines.join('\n'), heraldFailed);
  }
  if (error instanceof HeraldConnectionError) return new CommandError(`${command}: ${error.message}`, heraldFailed);
  return error;
}
