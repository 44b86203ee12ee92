import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scopes } from '../../src/domain/identity.js';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { expectFieldError, expectProblem, recordingInject } from './harness.js';
import { idsOf, type Page, pullClient, pullResource } from './pull-harness.js';

const base64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const queued = ['b1', 'b2', 'b3'];

/** The token with the character at `index` changed (to its base64url neighbour: for the last one, a spare bit). */
function flip(token: string, index: number): string {
  const position = base64url.indexOf(token[index] ?? '');
  const replacement = position < 0 ? '_' : (base64url[position ^ 1] as string);
  return token.slice(0, index) + replacement + token.slice(index + 1);
}

describeEachEngine('GET /subscriptions/{id}/events with bad input on $name', (engine) => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;
  let c: ReturnType<typeof pullClient>;
  /** A pull subscription holding `queued`, never acknowledged by these tests. */
  let mine: number;
  /** Another of the same consumer's pull subscriptions, holding the same events. */
  let sibling: number;
  let push: number;

  beforeAll(async () => {
    t = await createTestApp(engine);
    http = recordingInject(t.app);
    c = pullClient(http.inject, t.auth);
    mine = await c.subscribe();
    sibling = await c.subscribe({ resourceFilter: pullResource, typeFilter: 'no.altinn.events.digitalt-dodsbo.opprettet' });
    const created = await http.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: t.auth,
      payload: { endPoint: 'http://127.0.0.1:9/hook', resourceFilter: pullResource },
    });
    expect(created.statusCode, created.body).toBe(201);
    push = created.json().id;
    await c.publish(...queued);
  });
  afterAll(async () => t?.close());
  afterEach(async () => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
  });

  /** A page's event ids, sorted: this file is about acknowledgement; pull.test.ts checks the order. */
  const sortedIds = (page: Page) => idsOf(page).sort();

  /** Nothing was acknowledged: the queue still holds every event. */
  async function expectNothingAcknowledged() {
    expect(sortedIds(await c.page(mine))).toEqual(queued);
  }

  describe('limit and wait', () => {
    it.each(['0', '5001', '-1', 'abc', '1.5', '', '1e3', '+1', '99999999'])('refuses limit=%s', async (limit) => {
      expectFieldError(await c.read(mine, { limit }), 'events:invalidQuery', 'limit', "'limit' must be an integer from 1 to 5000.");
    });

    it.each(['31', '-1', 'abc', '1.5', '', '3600'])('refuses wait=%s', async (wait) => {
      expectFieldError(await c.read(mine, { wait }), 'events:invalidQuery', 'wait', /'wait' must be a whole number of seconds from 0 to 30/);
    });

    it('refuses a repeated parameter', async () => {
      const url = (query: string) => `/events/api/v1/subscriptions/${mine}/events?${query}`;
      expectFieldError(await http.inject({ method: 'GET', url: url('limit=1&limit=2'), headers: t.auth }), 'events:invalidQuery', 'limit');
      expectFieldError(await http.inject({ method: 'GET', url: url('checkPoint=a&checkPoint=b'), headers: t.auth }), 'events:invalidQuery', 'checkPoint');
    });

    it('names every parameter at fault', async () => {
      const body = expectProblem(await c.read(mine, { limit: 0, wait: 31 }), 400, 'events:invalidQuery');
      expect(Object.keys(body.errors ?? {}).sort()).toEqual(['limit', 'wait']);
    });

    it('accepts the edges: limit 1 and 5000, wait 0 and 30 on a queue holding events', async () => {
      expect((await c.page(mine, { limit: 1 })).events).toHaveLength(1);
      expect(sortedIds(await c.page(mine, { limit: 5000 }))).toEqual(queued);
      expect(sortedIds(await c.page(mine, { wait: 0 }))).toEqual(queued);
      const started = Date.now();
      expect(sortedIds(await c.page(mine, { wait: 30 }))).toEqual(queued);
      expect(Date.now() - started).toBeLessThan(3_000);
    });
  });

  describe('checkpoints that Herald did not give out for this subscription', () => {
    it('refuses a checkpoint with any one character changed, and acknowledges nothing', async () => {
      const { checkPoint } = await c.page(mine);
      for (let index = 0; index < checkPoint.length; index++) {
        const changed = flip(checkPoint, index);
        const response = await c.read(mine, { checkPoint: changed });
        expectProblem(response, 400, 'events:invalidCheckpoint');
      }
      await expectNothingAcknowledged();
    });

    it("refuses another subscription's checkpoint, further along its own queue", async () => {
      const theirs = await c.page(sibling);
      expect(sortedIds(theirs)).toEqual(queued);
      expectProblem(await c.read(mine, { checkPoint: theirs.checkPoint }), 400, 'events:invalidCheckpoint');
      await expectNothingAcknowledged();
    });

    it("refuses a checkpoint another Herald signed for a subscription with this one's id", async () => {
      const other = await createTestApp(engine);
      try {
        const elsewhere = pullClient(other.app, other.auth);
        // The first subscription on either database: same id, same queue positions, another signing key.
        const id = await elsewhere.subscribe();
        expect(id).toBe(mine);
        await elsewhere.publish('e1', 'e2', 'e3');
        const forged = await elsewhere.page(id);
        expect(sortedIds(forged)).toEqual(['e1', 'e2', 'e3']);
        expectProblem(await c.read(mine, { checkPoint: forged.checkPoint }), 400, 'events:invalidCheckpoint');
      } finally {
        await other.close();
      }
      await expectNothingAcknowledged();
    });

    it.each([
      ['garbage', 'garbage'],
      ['an empty string', ''],
      ['a blank', ' '],
      ['an unsigned position', 'c1.1.999.0'],
      ['a made-up signature', 'c1.1.999.0.AAAAAAAAAAAAAAAAAAAAAA'],
      ['a huge number', `c1.${'9'.repeat(40)}.1.0.AAAAAAAAAAAAAAAAAAAAAA`],
      ['a very long value', 'x'.repeat(4000)],
      ['characters needing encoding', 'c1.1.1.0.ü/?#&='],
    ])('refuses %s', async (_name, checkPoint) => {
      expectProblem(await c.read(mine, { checkPoint }), 400, 'events:invalidCheckpoint');
      await expectNothingAcknowledged();
    });

    it("refuses a real checkpoint's position moved on under its own signature", async () => {
      const { checkPoint } = await c.page(mine, { limit: 1 });
      const [version, subscription, delivery, epoch, signature] = checkPoint.split('.');
      const moved = [version, subscription, Number(delivery) + 2, epoch, signature].join('.');
      expectProblem(await c.read(mine, { checkPoint: moved }), 400, 'events:invalidCheckpoint');
      await expectNothingAcknowledged();
    });
  });

  describe('who may read', () => {
    it('asks for a token', async () => {
      expectProblem(await c.read(mine, {}, {}), 401, 'events:unauthenticated');
    });

    it('asks for the subscribe scope', async () => {
      const token = await testToken({ scope: scopes.publish });
      expectProblem(await c.read(mine, {}, { authorization: `Bearer ${token}` }), 403, 'events:forbidden');
    });

    it("answers 404 for another consumer's subscription, and their checkpoint-bearing read acknowledges nothing", async () => {
      const token = await testToken({ claims: { org: 'other' } });
      const headers = { authorization: `Bearer ${token}` };
      const { checkPoint } = await c.page(mine);
      expectProblem(await c.read(mine, {}, headers), 404, 'events:notFound');
      expectProblem(await c.read(mine, { checkPoint }, headers), 404, 'events:notFound');
      expectProblem(await c.read(mine, { limit: 1, wait: 1 }, headers), 404, 'events:notFound');
      await expectNothingAcknowledged();
    });

    it('answers 404 for a subscription that does not exist', async () => {
      for (const id of ['999999', '0', 'abc', '1.5', '-1', '9'.repeat(30)]) {
        expectProblem(await c.read(id), 404, 'events:notFound');
      }
    });

    it('refuses to read a push subscription, which has no queue', async () => {
      const body = expectProblem(await c.read(push), 400, 'events:invalidRequest');
      expect(body.detail).toMatch(/endPoint/);
    });
  });
});
