import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** One conformance case of the CESQL TCK (test/fixtures/cesql-tck/README.md). */
export interface TckCase {
  /** `file: name`, to name the test. */
  readonly title: string;
  readonly expression: string;
  /** The event to evaluate on: the case's own, or the default event with the case's overrides. */
  readonly event: Record<string, unknown>;
  /** Whether the case brings its own event (else it was built from the default). */
  readonly ownEvent: boolean;
  readonly result?: boolean | number | string;
  readonly error?: string;
}

const folder = join(import.meta.dirname, '..', 'fixtures', 'cesql-tck');

/** "Any valid event" where a case names none (the TCK's README): Herald's required `resource` included. */
export const defaultTckEvent = {
  specversion: '1.0',
  id: 'tck-event',
  source: 'https://tck.example/source',
  type: 'tck.event.type',
  resource: 'urn:altinn:resource:cesql-tck',
} as const;

interface TckFile {
  readonly name: string;
  readonly tests: readonly {
    readonly name: string;
    readonly expression: string | number | boolean;
    readonly event?: Record<string, unknown>;
    readonly eventOverrides?: Record<string, unknown>;
    readonly result?: boolean | number | string;
    readonly error?: string;
  }[];
}

/** Every case of every file, in file order. */
export function loadTckCases(): TckCase[] {
  const files = readdirSync(folder).filter((f) => f.endsWith('.yaml')).sort();
  return files.flatMap((file) => {
    const text = readFileSync(join(folder, file), 'utf8');
    const suite = parse(text) as TckFile;
    // YAML reads a bare `TRUE` or `-10` as a value; the expression is the text as written, read again with
    // every scalar kept a string.
    const written = parse(text, { schema: 'failsafe' }) as { tests: { expression: string }[] };
    return suite.tests.map((test, i) => ({
      title: `${file.replace(/\.yaml$/, '')}: ${test.name}`,
      expression: (written.tests[i] as { expression: string }).expression,
      event: test.event ? { ...test.event } : { ...defaultTckEvent, ...test.eventOverrides },
      ownEvent: test.event !== undefined,
      ...(test.result !== undefined ? { result: test.result } : {}),
      ...(test.error !== undefined ? { error: test.error } : {}),
    }));
  });
}
