import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  firstPositionStoredFrom,
  inProgressReplayStatuses,
  type LogFilter,
  logFilterOf,
  type ReplayFilters,
  replayStatuses,
} from '../../src/domain/replay.js';
import { matchesSourceFilter } from '../../src/domain/source-filter.js';
import { type MatchableEvent, SubscriptionIndex } from '../../src/domain/subscription-index.js';
import { matchesTextPattern } from '../../src/domain/text-pattern.js';
import { seededRandom } from '../support/random.js';

/** A log filter applied in memory, with the meaning the engines give a log read. */
function selects(filter: LogFilter, event: MatchableEvent): boolean {
  return (
    (filter.resource === undefined || filter.resource === event.resource) &&
    (filter.source === undefined || matchesSourceFilter(filter.source, event.source)) &&
    (filter.types.length === 0 || filter.types.some((type) => matchesTextPattern(type, event.type))) &&
    (filter.subject === undefined || filter.subject === event.subject) &&
    (filter.alternativesubject === undefined || filter.alternativesubject === event.alternativesubject)
  );
}

describe('logFilterOf', () => {
  it('selects from the log exactly the events the subscription index matches, over many random filters and events', () => {
    const { pick } = seededRandom(14);
    const resources = ['urn:a:one', 'urn:a:two'];
    const sources = ['https://x/ttd/app', 'https://x/ttd/app/instances/1', 'https://x/ttd/apple', 'https://y/z'];
    const sourceFilters = [null, 'https://x/ttd/app', 'https://x/%/instances/%', 'https://x/ttd/app/'];
    const types = ['a.created', 'a.%', 'b.deleted'];
    const subjects = [null, '/party/1', '/party/2'];
    for (let round = 0; round < 500; round++) {
      const filters: ReplayFilters = {
        resourceFilter: pick([null, ...resources]),
        sourceFilter: pick(sourceFilters),
        typeFilter: pick([null, ...types]),
        subjectFilter: pick(subjects),
        alternativeSubjectFilter: pick(subjects),
      };
      if (filters.resourceFilter === null && filters.sourceFilter === null) continue;
      const index = new SubscriptionIndex([{ id: 1, ...filters }]);
      const filter = logFilterOf(filters);
      for (let n = 0; n < 20; n++) {
        const event: MatchableEvent = {
          resource: pick(resources),
          source: pick(sources),
          type: pick(types),
          subject: pick(subjects),
          alternativesubject: pick(subjects),
        };
        expect(selects(filter, event), JSON.stringify({ filters, event })).toBe(index.match(event).length === 1);
      }
    }
  });

  it("takes a type filter with '%' literally, as the subscription index does", () => {
    const filter = logFilterOf({ resourceFilter: 'urn:a:b', sourceFilter: null, typeFilter: 'a.%', subjectFilter: null, alternativeSubjectFilter: null });
    expect(filter.types).toEqual([{ kind: 'exact', value: 'a.%' }]);
  });
});

describe('firstPositionStoredFrom', () => {
  /** A log: positions (with gaps, as PostgreSQL's day ranges) and the times they were stored. */
  function log(entries: readonly (readonly [seq: number, storedAt: number])[]) {
    let probes = 0;
    const probe = async (atLeast: number, atMost: number) => {
      probes++;
      const found = entries.find(([seq]) => seq >= atLeast && seq <= atMost);
      return found && { seq: found[0], storedAt: found[1] };
    };
    return { probe, probes: () => probes };
  }

  it('finds the first event stored at or after a time, across gaps in the positions', async () => {
    const { probe } = log([
      [1, 100],
      [2, 100],
      [10_000_000_000, 200],
      [10_000_000_001, 300],
      [20_000_000_000, 300],
    ]);
    expect(await firstPositionStoredFrom(0, 0, 20_000_000_000, probe)).toBe(1);
    expect(await firstPositionStoredFrom(101, 0, 20_000_000_000, probe)).toBe(10_000_000_000);
    expect(await firstPositionStoredFrom(300, 0, 20_000_000_000, probe)).toBe(10_000_000_001);
    expect(await firstPositionStoredFrom(301, 0, 20_000_000_000, probe)).toBeUndefined();
    expect(await firstPositionStoredFrom(0, 3, 20_000_000_000, probe)).toBe(10_000_000_000);
  });

  it('answers an empty log, and takes a bounded number of probes however large the positions', async () => {
    expect(await firstPositionStoredFrom(0, 0, 0, log([]).probe)).toBeUndefined();
    const entries = Array.from({ length: 10_000 }, (_, i) => [200_000_000_000_000 + i * 7, i] as const);
    const big = log(entries);
    expect(await firstPositionStoredFrom(5_000, 0, 200_000_000_000_000 + 70_000, big.probe)).toBe(200_000_000_000_000 + 35_000);
    expect(big.probes()).toBeLessThanOrEqual(60);
  });
});

describe('replay statuses', () => {
  it("names exactly the statuses each engine's schema allows, and in-progress ones among them", () => {
    for (const engine of ['sqlite', 'postgres']) {
      const schema = readFileSync(new URL(`../../src/store/${engine}/schema.sql`, import.meta.url), 'utf8');
      const check = /CREATE TABLE (?:public\.)?replays \([^;]*?CHECK \(\(?status (?:IN \(|= ANY \(ARRAY\[)([^)\]]*)/s.exec(schema);
      const allowed = [...(check?.[1] ?? '').matchAll(/'([a-z]+)'/g)].map((m) => m[1]);
      expect(allowed, engine).toEqual(replayStatuses);
    }
    for (const status of inProgressReplayStatuses) expect(replayStatuses).toContain(status);
  });
});
