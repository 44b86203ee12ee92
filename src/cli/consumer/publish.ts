import { readFile } from 'node:fs/promises';
import type { EventToPublish } from '@herald/client';
import { parseCommandArgs, usageError } from '../command-error.js';
import { connect, connectionOptions } from './connection.js';
import { asCommandFailure } from './herald-failure.js';

/**
 * `herald publish [file|-]`: one event (a JSON object) or a batch (a JSON array) from a file or stdin. The
 * client fills in a missing `id` (a UUID) and `specversion` ("1.0") before the first try, so a retry repeats
 * the same event and Herald stores it once. Prints one line per stored event: its source and id.
 */
export async function publishCommand(args: string[]): Promise<string> {
  const { values, positionals } = parseCommandArgs('publish', args, { ...connectionOptions, json: { type: 'boolean' } }, true);
  if (positionals.length > 1) throw usageError('publish: give one file (or - for stdin).');
  const input = await readInput(positionals[0] ?? '-');
  const events = parseEvents(input, positionals[0] ?? 'stdin');
  const herald = await connect('publish', values);
  try {
    const result = await herald.publish(events);
    if (values.json) return JSON.stringify({ stored: result.events.map(({ source, id }) => ({ source, id })), requests: result.requests });
    return result.events.map((event) => `stored ${event.source} ${event.id}`).join('\n') || 'stored nothing (an empty batch)';
  } catch (error) {
    throw asCommandFailure('publish', error);
  }
}

async function readInput(path: string): Promise<string> {
  if (path === '-') {
    if (process.stdin.isTTY) throw usageError('publish: give a file, or pipe the JSON to stdin.');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw usageError(`publish: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}.`);
  }
}

/** Whether it is one event or a batch is the JSON's shape: an object or an array of objects. */
function parseEvents(text: string, from: string): EventToPublish | EventToPublish[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(`publish: ${from} is not JSON (${(error as Error).message}).`);
  }
  const isObject = (item: unknown) => typeof item === 'object' && item !== null && !Array.isArray(item);
  if (Array.isArray(value)) {
    const wrong = value.findIndex((item) => !isObject(item));
    if (wrong >= 0) throw usageError(`publish: item [${wrong}] of ${from} is not a JSON object (an event).`);
    return value as EventToPublish[];
  }
  if (!isObject(value)) throw usageError(`publish: ${from} holds neither an event (a JSON object) nor a batch (an array of them).`);
  return value as EventToPublish;
}
