import { describe, expect, it } from 'vitest';
import { matchesSourceFilter, parseSourceFilter } from '../../src/domain/source-filter.js';
import {
  SubscriptionIndex,
  type MatchableEvent,
  type SubscriptionFilters,
} from '../../src/domain/subscription-index.js';
import { seededRandom } from '../support/random.js';

const resource = 'urn:altinn:resource:ttd-app';

function subscription(id: number, filters: Partial<Omit<SubscriptionFilters, 'id'>>): SubscriptionFilters {
  return {
    id,
    sourceFilter: null,
    resourceFilter: null,
    subjectFilter: null,
    alternativeSubjectFilter: null,
    typeFilter: null,
    ...filters,
  };
}

function event(attributes: Partial<MatchableEvent> = {}): MatchableEvent {
  return {
    source: 'https://x/ttd/app/instances/1',
    resource,
    type: 'app.instance.created',
    subject: '/party/1',
    alternativesubject: null,
    ...attributes,
  };
}

const matchIds = (subscriptions: SubscriptionFilters[], e: MatchableEvent) =>
  new SubscriptionIndex(subscriptions).match(e).sort((a, b) => a - b);

describe('SubscriptionIndex: resource filters', () => {
  it('matches a subscription whose resource filter is the event resource', () => {
    expect(matchIds([subscription(1, { resourceFilter: resource })], event())).toEqual([1]);
  });

  it('does not match a subscription for another resource, nor one the event resource starts with', () => {
    const subscriptions = [
      subscription(1, { resourceFilter: 'urn:altinn:resource:other' }),
      subscription(2, { resourceFilter: 'urn:altinn:resource:ttd' }),
      subscription(3, { resourceFilter: `${resource}-v2` }),
    ];
    expect(matchIds(subscriptions, event())).toEqual([]);
  });

  it('matches nothing when there are no subscriptions', () => {
    expect(matchIds([], event())).toEqual([]);
  });
});

describe('SubscriptionIndex: source filters without %', () => {
  const tree = [subscription(1, { sourceFilter: 'https://x/ttd/app' })];

  it.each([
    ['the filter URI itself', 'https://x/ttd/app', true],
    ['the filter URI with a trailing slash', 'https://x/ttd/app/', true],
    ['a path below the filter URI', 'https://x/ttd/app/instances/1', true],
    ['a deep path below the filter URI', 'https://x/ttd/app/instances/1/data/2', true],
    ['a sibling whose name starts with the same letters', 'https://x/ttd/apple', false],
    ['a sibling path below such a name', 'https://x/ttd/apple/instances/1', false],
    ['the parent of the filter URI', 'https://x/ttd', false],
    ['the same path on another host', 'https://y/ttd/app', false],
    ['the same path over http', 'http://x/ttd/app', false],
    ['the filter URI in another case', 'https://x/TTD/app', false],
  ])('given the filter https://x/ttd/app, matches %s (%s): %s', (_what, source, expected) => {
    expect(matchIds(tree, event({ source }))).toEqual(expected ? [1] : []);
  });

  it('matches everything below a filter that ends with a slash, but not the URI without the slash', () => {
    const subscriptions = [subscription(1, { sourceFilter: 'https://x/ttd/' })];
    expect(matchIds(subscriptions, event({ source: 'https://x/ttd/' }))).toEqual([1]);
    expect(matchIds(subscriptions, event({ source: 'https://x/ttd/app' }))).toEqual([1]);
    expect(matchIds(subscriptions, event({ source: 'https://x/ttd' }))).toEqual([]);
  });

  it('matches every source on a host for a filter naming only the host', () => {
    const subscriptions = [subscription(1, { sourceFilter: 'https://x' })];
    expect(matchIds(subscriptions, event({ source: 'https://x' }))).toEqual([1]);
    expect(matchIds(subscriptions, event({ source: 'https://x/ttd/app' }))).toEqual([1]);
    expect(matchIds(subscriptions, event({ source: 'https://xy/ttd/app' }))).toEqual([]);
  });

  it('does not read _ or * in a filter as wildcards', () => {
    const subscriptions = [
      subscription(1, { sourceFilter: 'https://x/my_app' }),
      subscription(2, { sourceFilter: 'https://x/my*' }),
    ];
    expect(matchIds(subscriptions, event({ source: 'https://x/myXapp' }))).toEqual([]);
    expect(matchIds(subscriptions, event({ source: 'https://x/my_app/1' }))).toEqual([1]);
    expect(matchIds(subscriptions, event({ source: 'https://x/my*/1' }))).toEqual([2]);
  });
});

describe('SubscriptionIndex: source filters with %', () => {
  it.each([
    ['https://x/ttd/%', 'https://x/ttd/app/instances/1', true],
    ['https://x/ttd/%', 'https://x/ttd/', true],
    ['https://x/ttd/%', 'https://x/ttd', false],
    ['https://x/%/app', 'https://x/ttd/app', true],
    ['https://x/%/app', 'https://x/ttd/app/instances/1', false],
    ['https://x/%/app', 'https://x/a/b/app', true],
    ['https://x/ttd/app%', 'https://x/ttd/apple', true],
    ['https://x/ttd/app%', 'https://x/ttd/ap', false],
    ['https://%.x/ttd/app', 'https://tt02.x/ttd/app', true],
    ['https://%.x/ttd/app', 'https://x/ttd/app', false],
    ['https://x/%/instances/%', 'https://x/ttd/app/instances/1', true],
    ['https://x/%/instances/%', 'https://x/ttd/app/data/1', false],
  ])('matches the filter %s against the source %s: %s', (filter, source, expected) => {
    expect(matchIds([subscription(1, { sourceFilter: filter })], event({ source }))).toEqual(expected ? [1] : []);
  });

  it.each([
    ['%/app', 'https://x/ttd/app', true],
    ['%/app', 'urn:no-slash:app', false],
    ['%', 'https://x/ttd/app', true],
    ['%', 'urn:altinn:no-slash', true],
    ['%app%', 'urn:altinn:app:1', true],
    ['%x/ttd%', 'https://x/ttd/app', true],
    ['%x/ttd%', 'https://y/ttd/app', false],
  ])('matches the filter %s, which starts with %%, against the source %s: %s', (filter, source, expected) => {
    expect(matchIds([subscription(1, { sourceFilter: filter })], event({ source }))).toEqual(expected ? [1] : []);
  });
});

describe('SubscriptionIndex: subject, alternative subject and type filters', () => {
  const base = { resourceFilter: resource };

  it('matches a subject filter only on the exact subject', () => {
    const subscriptions = [subscription(1, { ...base, subjectFilter: '/party/1' })];
    expect(matchIds(subscriptions, event({ subject: '/party/1' }))).toEqual([1]);
    expect(matchIds(subscriptions, event({ subject: '/party/12' }))).toEqual([]);
    expect(matchIds(subscriptions, event({ subject: '/party' }))).toEqual([]);
    expect(matchIds(subscriptions, event({ subject: null }))).toEqual([]);
  });

  it('matches an alternative subject filter only on the exact alternative subject', () => {
    const subscriptions = [subscription(1, { ...base, alternativeSubjectFilter: '/person/01017012345' })];
    expect(matchIds(subscriptions, event({ alternativesubject: '/person/01017012345' }))).toEqual([1]);
    expect(matchIds(subscriptions, event({ alternativesubject: '/person/0101701234' }))).toEqual([]);
    expect(matchIds(subscriptions, event({ alternativesubject: null }))).toEqual([]);
    expect(matchIds(subscriptions, event({ subject: '/person/01017012345' }))).toEqual([]);
  });

  it('matches a type filter only on the exact type', () => {
    const subscriptions = [subscription(1, { ...base, typeFilter: 'app.instance.created' })];
    expect(matchIds(subscriptions, event({ type: 'app.instance.created' }))).toEqual([1]);
    expect(matchIds(subscriptions, event({ type: 'app.instance.created.v2' }))).toEqual([]);
    expect(matchIds(subscriptions, event({ type: 'App.Instance.Created' }))).toEqual([]);
  });

  it('does not read % in a subject or type filter as a wildcard', () => {
    const subscriptions = [
      subscription(1, { ...base, subjectFilter: '/party/%' }),
      subscription(2, { ...base, typeFilter: 'app.%' }),
    ];
    expect(matchIds(subscriptions, event({ subject: '/party/1', type: 'app.instance.created' }))).toEqual([]);
    expect(matchIds(subscriptions, event({ subject: '/party/%', type: 'app.%' }))).toEqual([1, 2]);
  });

  it('matches an event with or without a subject when there is no subject filter', () => {
    const subscriptions = [subscription(1, base)];
    expect(matchIds(subscriptions, event({ subject: null, alternativesubject: null }))).toEqual([1]);
    expect(matchIds(subscriptions, event({ subject: '/party/9', alternativesubject: '/person/9' }))).toEqual([1]);
  });
});

describe('SubscriptionIndex: several filters and several subscriptions', () => {
  const all = {
    resourceFilter: resource,
    sourceFilter: 'https://x/ttd/app',
    subjectFilter: '/party/1',
    alternativeSubjectFilter: '/person/1',
    typeFilter: 'app.instance.created',
  };
  const matching = event({ alternativesubject: '/person/1' });

  it('matches when every given filter matches', () => {
    expect(matchIds([subscription(1, all)], matching)).toEqual([1]);
  });

  it.each([
    ['resource', { resource: 'urn:altinn:resource:other' }],
    ['source', { source: 'https://x/ttd/apple' }],
    ['subject', { subject: '/party/2' }],
    ['alternative subject', { alternativesubject: '/person/2' }],
    ['type', { type: 'app.instance.deleted' }],
  ] as const)('does not match when only the %s differs', (_what, change) => {
    expect(matchIds([subscription(1, all)], { ...matching, ...change })).toEqual([]);
  });

  it('checks the source filter of a subscription that also has a resource filter', () => {
    const subscriptions = [subscription(1, { resourceFilter: resource, sourceFilter: 'https://x/ttd/app' })];
    expect(matchIds(subscriptions, event({ source: 'https://x/ttd/app/instances/1' }))).toEqual([1]);
    expect(matchIds(subscriptions, event({ source: 'https://x/skd/app/instances/1' }))).toEqual([]);
    expect(
      matchIds(subscriptions, event({ source: 'https://x/ttd/app', resource: 'urn:altinn:resource:other' })),
    ).toEqual([]);
  });

  it('checks the resource of a subscription with a resource filter and a wildcard source filter', () => {
    const subscriptions = [subscription(1, { resourceFilter: resource, sourceFilter: '%/instances/%' })];
    expect(matchIds(subscriptions, event())).toEqual([1]);
    expect(matchIds(subscriptions, event({ resource: 'urn:altinn:resource:other' }))).toEqual([]);
    expect(matchIds(subscriptions, event({ source: 'https://x/ttd/app' }))).toEqual([]);
  });

  it('returns every matching subscription among several, and only those', () => {
    const subscriptions = [
      subscription(1, { resourceFilter: resource }),
      subscription(2, { resourceFilter: resource, typeFilter: 'app.instance.created' }),
      subscription(3, { resourceFilter: resource, typeFilter: 'app.instance.deleted' }),
      subscription(4, { sourceFilter: 'https://x/ttd' }),
      subscription(5, { sourceFilter: 'https://x/ttd/app' }),
      subscription(6, { sourceFilter: 'https://x/ttd/app/instances/1' }),
      subscription(7, { sourceFilter: 'https://x/ttd/app/instances/2' }),
      subscription(8, { sourceFilter: 'https://x/skd' }),
      subscription(9, { sourceFilter: '%' }),
      subscription(10, { sourceFilter: 'https://x/%/instances/1' }),
      subscription(11, { resourceFilter: 'urn:altinn:resource:other' }),
      subscription(12, { sourceFilter: 'https://x/ttd/app', subjectFilter: '/party/2' }),
    ];
    expect(matchIds(subscriptions, event())).toEqual([1, 2, 4, 5, 6, 9, 10]);
  });

  it('returns each matching subscription once, even when it could be found by its resource and its source', () => {
    const subscriptions = [
      subscription(1, { resourceFilter: resource, sourceFilter: 'https://x/ttd/app' }),
      subscription(2, { sourceFilter: 'https://x/ttd/app/' }),
      subscription(3, { sourceFilter: 'https://x/ttd/app/instances/1/' }),
      subscription(4, { sourceFilter: 'https://x/%/%/%' }),
    ];
    for (const source of ['https://x/ttd/app/instances/1', 'https://x/ttd/app/instances/1/', 'https://x/ttd/app/']) {
      const ids = new SubscriptionIndex(subscriptions).match(event({ source }));
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(matchIds(subscriptions, event({ source: 'https://x/ttd/app/instances/1/' }))).toEqual([1, 2, 3, 4]);
  });

  it('answers the same for the same event asked twice', () => {
    const index = new SubscriptionIndex([subscription(1, { resourceFilter: resource })]);
    expect(index.match(event())).toEqual([1]);
    expect(index.match(event())).toEqual([1]);
  });
});

type Random = ReturnType<typeof seededRandom>;

// Few distinct values, so that random filters and random events often meet.
const hosts = ['https://x', 'https://y', 'http://x', 'https://x.y', 'urn:altinn'];
const segments = ['ttd', 'app', 'apple', 'ap', 'instances', '1', '12', '', 'a_b', 'a%b'];
const resources = ['urn:altinn:resource:a', 'urn:altinn:resource:b', 'urn:altinn:resource:a-b'];
const subjects = ['/party/1', '/party/2', '/party/12'];
const types = ['created', 'deleted', 'created.v2'];

function randomPath(random: Random): string {
  const depth = Math.floor(random.next() * 4);
  let path = random.pick(hosts);
  for (let i = 0; i < depth; i++) path += `/${random.pick(segments).replace(/%/g, '')}`;
  return random.chance(0.2) ? `${path}/` : path;
}

/** A source filter: a plain URI, or one with `%` in place of a random stretch of it, even at the start. */
function randomSourceFilter(random: Random): string {
  const path = randomPath(random);
  if (random.chance(0.5)) return path;
  const start = Math.floor(random.next() * (path.length + 1));
  const end = start + Math.floor(random.next() * (path.length - start + 1));
  const pattern = `${path.slice(0, start)}%${path.slice(end)}`;
  return random.chance(0.3) ? `${pattern}%` : pattern;
}

function randomSubscription(random: Random, id: number): SubscriptionFilters {
  const maybe = <T>(p: number, make: () => T): T | null => (random.chance(p) ? make() : null);
  let resourceFilter = maybe(0.5, () => random.pick(resources));
  let sourceFilter = maybe(0.6, () => randomSourceFilter(random));
  // A subscription needs one of the two (parseSubscriptionRequest refuses it otherwise).
  if (resourceFilter === null && sourceFilter === null) {
    if (random.chance(0.5)) resourceFilter = random.pick(resources);
    else sourceFilter = randomSourceFilter(random);
  }
  return {
    id,
    resourceFilter,
    sourceFilter,
    subjectFilter: maybe(0.3, () => random.pick(subjects)),
    alternativeSubjectFilter: maybe(0.2, () => random.pick(subjects)),
    typeFilter: maybe(0.3, () => random.pick(types)),
  };
}

function randomEvent(random: Random): MatchableEvent {
  return {
    source: randomPath(random),
    resource: random.pick(resources),
    type: random.pick(types),
    subject: random.chance(0.8) ? random.pick(subjects) : null,
    alternativesubject: random.chance(0.5) ? random.pick(subjects) : null,
  };
}

/** The rules stated plainly, checked against every subscription in turn. */
function bruteForceMatch(subscriptions: readonly SubscriptionFilters[], e: MatchableEvent): number[] {
  return subscriptions
    .filter(
      (s) =>
        (s.resourceFilter === null || s.resourceFilter === e.resource) &&
        (s.sourceFilter === null || matchesSourceFilter(parseSourceFilter(s.sourceFilter), e.source)) &&
        (s.subjectFilter === null || s.subjectFilter === e.subject) &&
        (s.alternativeSubjectFilter === null || s.alternativeSubjectFilter === e.alternativesubject) &&
        (s.typeFilter === null || s.typeFilter === e.type),
    )
    .map((s) => s.id)
    .sort((a, b) => a - b);
}

describe('SubscriptionIndex: agrees with a scan of every subscription', () => {
  it('returns exactly the subscriptions a brute-force scan finds, for many random subscriptions and events', () => {
    let compared = 0;
    let nonEmpty = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const random = seededRandom(seed);
      const count = 1 + Math.floor(random.next() * 60);
      const subscriptions = Array.from({ length: count }, (_, i) => randomSubscription(random, i + 1));
      const index = new SubscriptionIndex(subscriptions);
      for (let n = 0; n < 50; n++) {
        const e = randomEvent(random);
        const found = index.match(e);
        const expected = bruteForceMatch(subscriptions, e);
        expect(new Set(found).size, `duplicates for seed ${seed}, event ${JSON.stringify(e)}`).toBe(found.length);
        expect([...found].sort((a, b) => a - b), `seed ${seed}, event ${JSON.stringify(e)}`).toEqual(expected);
        compared++;
        if (expected.length > 0) nonEmpty++;
      }
    }
    expect(compared).toBe(10_000);
    // The generator must produce matches often, or the comparison proves little.
    expect(nonEmpty).toBeGreaterThan(compared / 4);
  });

  it('agrees with the scan for source filters cut at every position of a source, with % at each cut', () => {
    const sources = ['https://x/ttd/app/instances/1', 'https://x/ttd/app/', 'https://x', 'urn:altinn:x:y'];
    for (const source of sources) {
      const subscriptions: SubscriptionFilters[] = [];
      for (let i = 0; i <= source.length; i++) {
        subscriptions.push(subscription(subscriptions.length + 1, { sourceFilter: source.slice(0, i) || '%' }));
        subscriptions.push(subscription(subscriptions.length + 1, { sourceFilter: `${source.slice(0, i)}%` }));
        subscriptions.push(subscription(subscriptions.length + 1, { sourceFilter: `%${source.slice(i)}` }));
        subscriptions.push(
          subscription(subscriptions.length + 1, { sourceFilter: `${source.slice(0, i)}%${source.slice(i + 1)}` }),
        );
      }
      const index = new SubscriptionIndex(subscriptions);
      for (const probe of sources.concat(sources.map((s) => `${s}/more`), sources.map((s) => s.slice(0, -1)))) {
        const e = event({ source: probe });
        expect([...index.match(e)].sort((a, b) => a - b), `source ${probe}`).toEqual(
          bruteForceMatch(subscriptions, e),
        );
      }
    }
  });
});

describe('SubscriptionIndex, changed one subscription at a time', () => {
  it('matches exactly what an index built afresh matches, after any sequence of upserts and removals', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <T,>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
    const resources = ['urn:altinn:resource:a', 'urn:altinn:resource:b', null];
    const sources = ['https://x.example/app', 'https://x.example/app/%/instances', 'https://y.example/', null];
    const live = new Map<number, SubscriptionFilters>();
    const index = new SubscriptionIndex([]);
    for (let step = 0; step < 400; step++) {
      const id = 1 + Math.floor(random() * 30);
      if (random() < 0.3) {
        live.delete(id);
        index.remove(id);
        continue;
      }
      const resourceFilter = pick(resources);
      const filters: SubscriptionFilters = {
        id,
        resourceFilter,
        sourceFilter: resourceFilter === null ? (pick(sources) ?? 'https://x.example/app') : pick(sources),
        subjectFilter: pick(['/party/1', null, null]),
        alternativeSubjectFilter: null,
        typeFilter: pick(['created', null]),
      };
      live.set(id, filters);
      index.upsert(filters);
    }
    const fresh = new SubscriptionIndex(live.values());
    for (let n = 0; n < 200; n++) {
      const event = {
        resource: pick(['urn:altinn:resource:a', 'urn:altinn:resource:b', 'urn:altinn:resource:c']),
        source: pick(['https://x.example/app', 'https://x.example/app/9/instances', 'https://y.example/z', 'https://z.example/']),
        type: pick(['created', 'deleted']),
        subject: pick(['/party/1', '/party/2', null]),
        alternativesubject: null,
      };
      expect([...index.match(event)].sort()).toEqual([...fresh.match(event)].sort());
    }
  });
});
