import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes of the operator commands: 1 for something that does not exist, 2 for a command written wrong. */
export const exitCodes = { notFound: 1, usage: 2 } as const;

/** A failure the operator caused and can fix: printed as one line, never with a stack trace. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export const usageError = (message: string) => new CommandError(message, exitCodes.usage);
export const notFound = (message: string) => new CommandError(message, exitCodes.notFound);

/**
 * `parseArgs`, with its refusals (unknown option, missing value, stray argument) turned into usage errors.
 * @example parseCommandArgs('events tail', ['--limit', '5'], { limit: { type: 'string' } })
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    if (String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      throw usageError(`${command}: ${(error as Error).message}`);
    }
    throw error;
  }
}

/** A subscription id as typed on the command line: a positive integer. */
export function parseSubscriptionId(command: string, value: string | undefined): number {
  if (value === undefined) throw usageError(`${command}: a subscription id is required.`);
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) {
    throw usageError(`${command}: '${value}' is not a subscription id (a positive integer).`);
  }
  return Number(value);
}
