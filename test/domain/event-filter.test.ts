import { describe, expect, it } from 'vitest';
import { type EventFilter, filterLimits, parseEventFilters } from '../../src/domain/event-filter.js';
import { filterKeyOf } from '../../src/domain/event-filter-key.js';
import { compileEventFilters } from '../../src/domain/event-filter-predicate.js';
import { type MatchableEvent, SubscriptionIndex } from '../../src/domain/subscription-index.js';

const event = {
  specversion: '1.0',
  id: 'e1',
  source: 'https://x/ttd/app/instances/1',
  type: 'no.altinn.app.created',
  resource: 'urn:altinn:resource:ttd-app',
  subject: '/party/50015641',
  priority: 3,
  urgent: true,
  data: { type: 'not an attribute' },
};

const matches = (filters: EventFilter[], attributes: Record<string, unknown> = event) => compileEventFilters(filters)(attributes);

/** The pointers of the faults parsing `value` finds. */
function faults(value: unknown): string[] {
  const parsed = parseEventFilters(value);
  if (parsed.ok) throw new Error('expected a refusal');
  return parsed.errors.map((error) => error.field);
}

describe('filter dialects match as the Subscriptions API defines them', () => {
  it('exact, prefix and suffix compare every named attribute, case-sensitively', () => {
    expect(matches([{ exact: { type: 'no.altinn.app.created', subject: '/party/50015641' } }])).toBe(true);
    expect(matches([{ exact: { type: 'no.altinn.app.created', subject: '/party/1' } }])).toBe(false);
    expect(matches([{ exact: { type: 'NO.altinn.app.created' } }])).toBe(false);
    expect(matches([{ prefix: { type: 'no.altinn.', source: 'https://x/ttd/' } }])).toBe(true);
    expect(matches([{ prefix: { type: 'no.altinn.x' } }])).toBe(false);
    expect(matches([{ suffix: { type: '.created', subject: '5641' } }])).toBe(true);
    expect(matches([{ suffix: { type: '.deleted' } }])).toBe(false);
  });

  it('compare extensions by their string form, and an attribute the event lacks never matches', () => {
    expect(matches([{ exact: { priority: '3', urgent: 'true' } }])).toBe(true);
    expect(matches([{ exact: { priority: '03' } }])).toBe(false);
    expect(matches([{ prefix: { resourceinstance: 'a' } }])).toBe(false);
    expect(matches([{ not: { exact: { resourceinstance: 'a' } } }])).toBe(true);
  });

  it('all, any and not combine nested filters', () => {
    const created = { suffix: { type: '.created' } };
    const deleted = { suffix: { type: '.deleted' } };
    expect(matches([{ all: [created, { prefix: { subject: '/party/' } }] }])).toBe(true);
    expect(matches([{ all: [created, deleted] }])).toBe(false);
    expect(matches([{ any: [deleted, created] }])).toBe(true);
    expect(matches([{ any: [deleted] }])).toBe(false);
    expect(matches([{ not: deleted }])).toBe(true);
    expect(matches([{ not: { not: created } }])).toBe(true);
  });

  it('every filter of the array must hold; none at all matches everything', () => {
    expect(matches([{ prefix: { type: 'no.' } }, { suffix: { type: '.created' } }])).toBe(true);
    expect(matches([{ prefix: { type: 'no.' } }, { suffix: { type: '.deleted' } }])).toBe(false);
    expect(matches([])).toBe(true);
  });

  it('sql matches when the expression is true without errors; a bare attribute is coerced to a Boolean', () => {
    expect(matches([{ sql: "priority >= 2 AND type LIKE 'no.altinn.%'" }])).toBe(true);
    expect(matches([{ sql: 'priority >= 5' }])).toBe(false);
    // A missing attribute is an error: no match, even under NOT.
    expect(matches([{ sql: "NOT (resourceinstance = 'x')" }])).toBe(false);
    expect(matches([{ sql: 'urgent' }])).toBe(true);
    expect(matches([{ sql: 'urgent' }], { ...event, urgent: 'TRUE' })).toBe(true);
    expect(matches([{ sql: 'urgent' }], { ...event, urgent: false })).toBe(false);
    expect(matches([{ sql: 'urgent' }], { ...event, urgent: 'maybe' })).toBe(false);
  });

  it('never reads data', () => {
    expect(matches([{ sql: 'EXISTS data' }])).toBe(false);
  });
});

describe('parsing filters', () => {
  it('accepts every dialect and keeps the filters as given', () => {
    const given = [
      { exact: { type: 'a', subject: 'b' } },
      { any: [{ prefix: { source: 'https://' } }, { not: { suffix: { type: '.x' } } }] },
      { all: [{ sql: 'EXISTS subject' }] },
    ];
    const parsed = parseEventFilters(given);
    expect(parsed).toEqual({ ok: true, value: given });
    expect(JSON.stringify(parsed.ok && parsed.value)).toBe(JSON.stringify(given));
  });

  it('names each fault by a JSON pointer', () => {
    expect(faults({ exact: { type: 'a' } })).toEqual(['filters']);
    expect(faults([{ exact: { type: 'a' } }, 'x', { exact: {} }])).toEqual(['filters/1', 'filters/2/exact']);
    expect(faults([{ exact: { '': 'a', type: '' } }])).toEqual(['filters/0/exact/', 'filters/0/exact/type']);
    expect(faults([{ all: [] }, { any: [{ exact: { Type: 'a' } }] }])).toEqual(['filters/0/all', 'filters/1/any/0/exact/Type']);
    expect(faults([{}, { regex: 'a' }, { exact: { type: 'a' }, prefix: { type: 'a' } }])).toEqual(['filters/0', 'filters/1', 'filters/2']);
    expect(faults([{ not: { all: [{ exact: { 'a/b~c': 'x' } }] } }])).toEqual(['filters/0/not/all/0/exact/a~1b~0c']);
    expect(faults([{ exact: { data: 'x', type: 1 } }])).toEqual(['filters/0/exact/data', 'filters/0/exact/type']);
    expect(faults([{ sql: 3 }, { sql: '' }, { not: [] }])).toEqual(['filters/0/sql', 'filters/1/sql', 'filters/2/not']);
  });

  it('says where a CESQL expression stops parsing', () => {
    const parsed = parseEventFilters([{ exact: { type: 'a' } }, { any: [{ sql: "type = 'a' AND\n  (subject" }] }]);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]?.field).toBe('filters/1/any/0/sql');
    expect(parsed.errors[0]?.message).toMatch(/^The expression does not parse at line 2, column 11 \(offset 25\): /);
  });

  it('refuses a sql expression that always gives an Integer or a String, and keeps a bare attribute', () => {
    expect(faults([{ sql: '1 + 1' }, { sql: "CONCAT('a', subject)" }])).toEqual(['filters/0/sql', 'filters/1/sql']);
    expect(parseEventFilters([{ sql: 'urgent' }]).ok).toBe(true);
  });

  it('bounds the number of expressions, their nesting, their sql expressions and their size', () => {
    const many = Array.from({ length: filterLimits.expressions + 1 }, () => ({ exact: { type: 'a' } }));
    expect(faults(many)).toEqual(['filters']);
    let deep: unknown = { exact: { type: 'a' } };
    for (let i = 0; i < filterLimits.nestingDepth; i++) deep = { not: deep };
    expect(faults([deep])[0]).toMatch(/^filters\/0(\/not)+$/);
    let deepest: unknown = { exact: { type: 'a' } };
    for (let i = 1; i < filterLimits.nestingDepth; i++) deepest = { not: deepest };
    expect(parseEventFilters([deepest]).ok).toBe(true);
    const sql = Array.from({ length: filterLimits.sqlExpressions + 1 }, () => ({ sql: 'EXISTS subject' }));
    expect(faults(sql)).toEqual(['filters']);
    expect(faults([{ exact: { type: 'x'.repeat(filterLimits.bytes) } }])).toEqual(['filters']);
  });
});

describe('the match index with filter expressions', () => {
  const base = { sourceFilter: null, subjectFilter: null, alternativeSubjectFilter: null, typeFilter: null };

  it('evaluates them only on the candidates the Altinn filters let through, parsing each event once', () => {
    const subscriptions = [
      { ...base, id: 1, resourceFilter: 'urn:altinn:resource:ttd-app', filters: [{ sql: 'priority >= 2' }] },
      { ...base, id: 2, resourceFilter: 'urn:altinn:resource:ttd-app', filters: [{ prefix: { type: 'other.' } }] },
      { ...base, id: 3, resourceFilter: 'urn:altinn:resource:ttd-app', filters: [{ exact: { urgent: 'true' } }] },
      { ...base, id: 4, resourceFilter: 'urn:altinn:resource:ttd-app', typeFilter: 'x', filters: [{ sql: 'priority >= 2' }] },
      { ...base, id: 5, resourceFilter: 'urn:altinn:resource:ttd-app' },
      { ...base, id: 6, resourceFilter: 'urn:altinn:resource:other', filters: [{ sql: 'priority >= 2' }] },
    ];
    const index = new SubscriptionIndex(subscriptions);
    const text = JSON.stringify(event);
    let reads = 0;
    const matchable: MatchableEvent = {
      ...event,
      alternativesubject: null,
      get payload() {
        reads += 1;
        return text;
      },
    };
    expect(index.match(matchable).sort()).toEqual([1, 3, 5]);
    expect(reads).toBe(1);
  });

  it('does not read the payload when no candidate has filter expressions', () => {
    const index = new SubscriptionIndex([{ ...base, id: 1, resourceFilter: 'urn:altinn:resource:ttd-app' }]);
    let reads = 0;
    const matchable: MatchableEvent = {
      ...event,
      alternativesubject: null,
      get payload() {
        reads += 1;
        return JSON.stringify(event);
      },
    };
    expect(index.match(matchable)).toEqual([1]);
    expect(reads).toBe(0);
  });

  it('files a subscription again with its changed filters', () => {
    const index = new SubscriptionIndex([{ ...base, id: 1, resourceFilter: 'urn:altinn:resource:ttd-app', filters: [{ sql: 'priority >= 5' }] }]);
    const matchable = { ...event, alternativesubject: null, payload: JSON.stringify(event) };
    expect(index.match(matchable)).toEqual([]);
    index.upsert({ ...base, id: 1, resourceFilter: 'urn:altinn:resource:ttd-app', filters: [{ sql: 'priority >= 2' }] });
    expect(index.match(matchable)).toEqual([1]);
    const next = new SubscriptionIndex([{ ...base, id: 1, resourceFilter: 'urn:altinn:resource:ttd-app', filters: [] }], index);
    expect(next.match(matchable)).toEqual([1]);
  });
});

describe('attribute values the filters require, which the index files subscriptions under', () => {
  it('takes an exact or a top-level AND of the sql, preferring the subject', () => {
    expect(filterKeyOf([{ sql: "type = 'a' AND SUBJECT = '/party/1' AND priority > 2" }])).toEqual({ name: 'subject', values: ['/party/1'] });
    expect(filterKeyOf([{ sql: "'a.b' = type" }])).toEqual({ name: 'type', values: ['a.b'] });
    expect(filterKeyOf([{ all: [{ exact: { source: 'https://x/1', priority: '2' } }] }])).toEqual({ name: 'source', values: ['https://x/1'] });
    expect(filterKeyOf([{ sql: "subject IN ('/party/1', '/party/2') AND type LIKE 'a.%'" }])).toEqual({ name: 'subject', values: ['/party/1', '/party/2'] });
    expect(filterKeyOf([{ sql: "subject IN ('/party/1', '/party/2')" }, { exact: { subject: '/party/2' } }])).toEqual({ name: 'subject', values: ['/party/2'] });
  });

  it('takes nothing that an event may match without', () => {
    expect(filterKeyOf([{ sql: "subject = '/party/1' OR type = 'a'" }])).toBeUndefined();
    expect(filterKeyOf([{ sql: "NOT (subject = '/party/1')" }])).toBeUndefined();
    expect(filterKeyOf([{ sql: "subject != '/party/1'" }])).toBeUndefined();
    expect(filterKeyOf([{ sql: 'priority = 1' }, { exact: { priority: '1' } }])).toBeUndefined();
    expect(filterKeyOf([{ any: [{ exact: { subject: '/party/1' } }] }, { not: { exact: { type: 'a' } } }])).toBeUndefined();
    expect(filterKeyOf([{ prefix: { subject: '/party/1' } }])).toBeUndefined();
    expect(filterKeyOf([{ sql: "subject NOT IN ('/party/1')" }])).toBeUndefined();
    expect(filterKeyOf([{ sql: "subject IN ('/party/1', 2)" }])).toBeUndefined();
  });

  it('the index then evaluates a keyed subscription only on events with the value, and still matches them all', () => {
    const base = { sourceFilter: null, subjectFilter: null, alternativeSubjectFilter: null, typeFilter: null };
    const subscriptions = Array.from({ length: 100 }, (_, i) => ({
      ...base,
      id: i + 1,
      resourceFilter: i % 2 === 0 ? 'urn:altinn:resource:ttd-app' : null,
      sourceFilter: i % 2 === 0 ? null : 'https://x/ttd/app',
      filters: [{ sql: `subject = '/party/${i}' AND type LIKE 'no.%'` }],
    }));
    const index = new SubscriptionIndex([...subscriptions, { ...base, id: 1000, resourceFilter: 'urn:altinn:resource:ttd-app', filters: [{ suffix: { type: 'created' } }] }]);
    for (const party of [10, 11]) {
      const attributes = { ...event, subject: `/party/${party}` };
      expect(index.match({ ...attributes, alternativesubject: null, payload: JSON.stringify(attributes) }).sort((a, b) => a - b)).toEqual([party + 1, 1000]);
    }
    const both = new SubscriptionIndex([{ ...base, id: 7, resourceFilter: 'urn:altinn:resource:ttd-app', filters: [{ sql: "subject IN ('/party/10', '/party/11', '/party/10')" }] }]);
    for (const party of [10, 11, 12]) {
      const attributes = { ...event, subject: `/party/${party}` };
      expect(both.match({ ...attributes, alternativesubject: null, payload: JSON.stringify(attributes) })).toEqual(party === 12 ? [] : [7]);
    }
    both.remove(7);
    expect(both.match({ ...event, subject: '/party/10', alternativesubject: null })).toEqual([]);
    index.remove(11);
    index.upsert({ ...base, id: 12, resourceFilter: null, sourceFilter: 'https://x/ttd/app', filters: [{ exact: { type: 'other' } }] });
    const attributes = { ...event, subject: '/party/10' };
    expect(index.match({ ...attributes, alternativesubject: null, payload: JSON.stringify(attributes) })).toEqual([1000]);
  });
});
