import { describe, expect, it } from 'vitest';
import { parseStreamQuery, type StreamParameters } from '../../src/domain/stream-query.js';

const resource = 'urn:altinn:resource:example';

function accept(parameters: StreamParameters, lastEventId?: string, header?: string) {
  const parsed = parseStreamQuery(parameters, header, '', lastEventId);
  if (!parsed.ok) throw new Error(`expected the stream to be accepted: ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
}

function refuse(parameters: StreamParameters, lastEventId?: string, header?: string) {
  const parsed = parseStreamQuery(parameters, header, '', lastEventId);
  if (parsed.ok) throw new Error('expected the stream to be refused');
  return parsed.errors;
}

describe('parseStreamQuery', () => {
  it('starts from now without after or Last-Event-ID, with the poll filters', () => {
    expect(accept({ resource })).toEqual({
      start: { kind: 'now' },
      resource,
      source: undefined,
      types: [],
      subject: undefined,
      alternativesubject: undefined,
    });
  });

  it("takes after as a poll's after: 0 for the start, a position, an event id", () => {
    expect(accept({ resource, after: '0' }).start).toEqual({ kind: 'start' });
    expect(accept({ resource, after: '~1042' }).start).toEqual({ kind: 'position', seq: 1042 });
    expect(accept({ resource, after: 'event-7' }).start).toEqual({ kind: 'event', id: 'event-7' });
  });

  it('lets Last-Event-ID win over after, and reads an empty one as none', () => {
    expect(accept({ resource, after: '0' }, '~12').start).toEqual({ kind: 'position', seq: 12 });
    expect(accept({ resource }, '').start).toEqual({ kind: 'now' });
    expect(accept({ resource, after: '0' }, '').start).toEqual({ kind: 'start' });
  });

  it("refuses with the poll's messages: no resource or source, an empty after, subject with an alternative subject", () => {
    expect(refuse({})).toEqual([{ field: 'resource', message: "The 'resource' or 'source' parameter must be defined." }]);
    expect(refuse({ resource, after: '' })).toEqual([{ field: 'after', message: "The 'after' parameter must not be empty." }]);
    expect(refuse({ resource, subject: '/party/1' }, undefined, '/person/1')).toEqual([
      { field: 'subject', message: "Only one of 'subject' or 'alternativeSubject' can be defined." },
    ]);
  });

  it('refuses a Last-Event-ID with control characters or outside ASCII, naming the header', () => {
    for (const id of ['~1\t2', '~1\u00e92']) {
      expect(refuse({ resource }, id)).toEqual([
        { field: 'Last-Event-ID', message: expect.stringContaining('The Last-Event-ID header must hold the id of an event') },
      ]);
    }
  });

  it('still checks after when Last-Event-ID wins over it', () => {
    expect(refuse({ resource, after: '' }, '~3').map((e) => e.field)).toEqual(['after']);
  });
});
