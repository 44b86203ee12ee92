import { hasControlCharacters } from './control-characters.js';
import { type PollCursor, parsePollCursor } from './poll-cursor.js';
import { isValidResourceUrn } from './resource-urn.js';
import { parseSourceFilter, type SourceFilter } from './source-filter.js';
import { parseTextPattern, type TextPattern } from './text-pattern.js';
import { isAscii, parametersNotUtf8 } from './unicode-text.js';
import { accepted, type FieldError, type Parsed } from './validation.js';

export const pollPageSize = { default: 50, max: 1000 } as const;

/** The query string of `GET /events` as it arrives (repeatable values may come as arrays). */
export interface PollParameters {
  readonly after?: string | undefined;
  readonly resource?: string | undefined;
  readonly source?: string | undefined;
  readonly type?: string | readonly string[] | undefined;
  readonly subject?: string | undefined;
  readonly alternativesubject?: string | undefined;
  readonly size?: string | number | undefined;
}

/** Rows one read of the log examines at most by default (HERALD_POLL_EXAMINE_LIMIT): a few milliseconds. */
export const defaultPollExamineLimit = 10_000;

/** The fewest rows a read examines, however many patterns it checks on each. */
const minimumExamined = 100;

/**
 * How many rows a read with these filters may examine: the limit, shared among the `%` patterns checked on each
 * row (each is a scan of the row's text), so a read with a hundred `type=%…%` patterns costs what one with a
 * single pattern does, not a hundred times more.
 * @example examineBound(10_000, [parseTextPattern('%a%'), parseTextPattern('%b%')], undefined) // 5_000
 */
export function examineBound(limit: number, types: readonly TextPattern[], source: SourceFilter | undefined): number {
  const patterns = types.filter((type) => type.kind === 'wildcard').length + (source?.kind === 'wildcard' ? 1 : 0);
  return Math.max(minimumExamined, Math.floor(limit / Math.max(1, patterns)));
}

/** A validated poll: what to read and from where. */
export interface PollQuery {
  readonly cursor: PollCursor;
  readonly resource: string | undefined;
  readonly source: SourceFilter | undefined;
  readonly types: readonly TextPattern[];
  readonly subject: string | undefined;
  readonly alternativesubject: string | undefined;
  readonly size: number;
}

/**
 * Validates the poll parameters with Altinn's rules and messages. The alternative subject may come in the
 * `Altinn-AlternativeSubject` header instead of the query, which keeps personal numbers out of URLs.
 * `rawQuery` (the query string as sent, without `?`) is checked for escapes that do not decode to UTF-8: the
 * query parser keeps those undecoded, and the poll would filter on text the client did not mean.
 */
export function parsePollQuery(
  parameters: PollParameters,
  alternativeSubjectHeader?: string,
  rawQuery = '',
): Parsed<PollQuery> {
  const errors: FieldError[] = [];
  const refuse = (field: string, message: string) => errors.push({ field, message });

  for (const name of new Set(parametersNotUtf8(rawQuery))) {
    refuse(
      name,
      `The '${name}' parameter is not valid UTF-8 once percent-decoded: percent-encode the UTF-8 bytes of ` +
        "each character outside ASCII, and a literal '%' as %25.",
    );
  }

  for (const name of ['after', 'resource', 'source', 'subject', 'alternativesubject'] as const) {
    if (parameters[name] === '') refuse(name, `The '${name}' parameter must not be empty.`);
    if (isControlled(parameters[name]))
      refuse(name, `The '${name}' parameter must not contain control characters.`);
  }
  if (alternativeSubjectHeader !== undefined && !isAscii(alternativeSubjectHeader)) {
    // Node reads header bytes as Latin-1: raw UTF-8 would be matched as other characters than were sent.
    refuse('Altinn-AlternativeSubject', 'The Altinn-AlternativeSubject header must hold ASCII characters only.');
  }
  if (isControlled(alternativeSubjectHeader)) {
    refuse(
      'Altinn-AlternativeSubject',
      'The Altinn-AlternativeSubject header must not contain control characters.',
    );
  }
  const after = parameters.after;
  if (after === undefined) refuse('after', "The 'after' parameter must be defined.");

  const { resource, source, subject } = parameters;
  if (!resource && !source) refuse('resource', "The 'resource' or 'source' parameter must be defined.");
  if (resource && !isValidResourceUrn(resource))
    refuse('resource', "The 'resource' parameter must be a valid urn.");

  const types =
    parameters.type === undefined
      ? []
      : typeof parameters.type === 'string'
        ? [parameters.type]
        : parameters.type;
  if (types.some((type) => type === '')) refuse('type', "The 'type' parameter must not be empty.");
  if (types.some(isControlled)) refuse('type', "The 'type' parameter must not contain control characters.");

  const alternativesubject = parameters.alternativesubject || alternativeSubjectHeader || undefined;
  if (subject && alternativesubject) {
    refuse('subject', "Only one of 'subject' or 'alternativeSubject' can be defined.");
  }

  const size = parseSize(parameters.size);
  if (size === undefined) refuse('size', "The 'size' parameter must be an integer.");

  if (errors.length > 0 || after === undefined || size === undefined) return { ok: false, errors };
  return accepted({
    cursor: parsePollCursor(after),
    resource: resource || undefined,
    source: source ? parseSourceFilter(source) : undefined,
    types: types.map(parseTextPattern),
    subject: subject || undefined,
    alternativesubject,
    size,
  });
}

/** Stored attributes never hold control characters, and PostgreSQL cannot compare text holding U+0000. */
function isControlled(value: unknown): boolean {
  return typeof value === 'string' && hasControlCharacters(value);
}

/** Altinn's clamp: below 1 means the default, above the maximum means the maximum. */
function parseSize(size: string | number | undefined): number | undefined {
  if (size === undefined || size === '') return pollPageSize.default;
  const value =
    typeof size === 'number' ? size : /^-?\d{1,12}$/.test(size.trim()) ? Number(size) : Number.NaN;
  if (!Number.isInteger(value)) return undefined;
  if (value < 1) return pollPageSize.default;
  return Math.min(value, pollPageSize.max);
}
