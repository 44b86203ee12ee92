import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cesqlLimits } from '../../src/domain/cesql/index.js';
import { scopes } from '../../src/domain/identity.js';
import { filtersEvaluatePath } from '../../src/http/routes/filters/evaluate.js';
import { defaultTckEvent, loadTckCases } from '../support/cesql-tck.js';
import { describeEachEngine, engines } from '../support/engines.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { expectFieldError, expectProblem, expectStillServing, recordingInject } from './harness.js';

const cases = loadTckCases();

describe('the CESQL 1.0 conformance cases (TCK), through POST /filters/evaluate', () => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;

  beforeAll(async () => {
    t = await createTestApp(engines[0]!);
    http = recordingInject(t.app);
  });
  afterAll(async () => t?.close());
  afterEach(() => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
  });

  it.each(cases.map((c) => [c.title, c] as const))('%s', async (_title, tck) => {
    // Herald accepts only events with a `resource` (Altinn's rule). No case's expression reads it, so adding
    // it to the cases that bring their own event changes no result.
    expect(tck.expression.toLowerCase()).not.toContain('resource');
    const event = tck.ownEvent && !('resource' in tck.event) ? { ...tck.event, resource: defaultTckEvent.resource } : tck.event;
    const response = await http.inject({
      method: 'POST',
      url: filtersEvaluatePath,
      headers: t.auth,
      payload: { expression: tck.expression, event },
    });
    if (tck.error === 'parse') {
      const body = expectProblem(response, 400, 'filters:parse') as unknown as Record<string, unknown>;
      expect(body.location).toEqual({ offset: expect.any(Number), line: 1, column: expect.any(Number) });
      return;
    }
    expect(response.statusCode, response.body).toBe(200);
    const { result, errors } = response.json() as { result: unknown; errors: { kind: string; message: string }[] };
    if (tck.result !== undefined) expect(result).toStrictEqual(tck.result);
    expect([...new Set(errors.map((e) => e.kind))]).toEqual(tck.error ? [tck.error] : []);
    for (const error of errors) expect(error.message.length).toBeGreaterThan(0);
  });
});

describeEachEngine('POST /filters/evaluate on $name', (engine) => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;
  const event = sampleEvent({ subject: '/party/50015641', priority: 3 });

  beforeAll(async () => {
    t = await createTestApp(engine);
    http = recordingInject(t.app);
  });
  afterAll(async () => t?.close());
  afterEach(() => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
  });

  const evaluate = (body: unknown, headers: Record<string, string> = t.auth) =>
    http.inject({
      method: 'POST',
      url: filtersEvaluatePath,
      headers: { ...headers, 'content-type': 'application/json' },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers the value of the expression on the event, of any type, with its errors', async () => {
    const answers = await Promise.all(
      ["type LIKE 'no.altinn.%' AND priority > 2", 'priority * 10', "CONCAT(subject, '!')", 'nothere OR TRUE'].map(
        async (expression) => (await evaluate({ expression, event })).json(),
      ),
    );
    expect(answers).toEqual([
      { result: true, errors: [] },
      { result: 30, errors: [] },
      { result: '/party/50015641!', errors: [] },
      { result: false, errors: [{ kind: 'missingAttribute', message: "The event has no attribute 'nothere'." }] },
    ]);
  });

  it('evaluates the event as Herald would store it: a null attribute is unset', async () => {
    const answer = await evaluate({ expression: 'EXISTS subject', event: { ...event, subject: null } });
    expect(answer.json()).toEqual({ result: false, errors: [] });
  });

  it('refuses an expression that does not parse with filters:parse, saying where and what was expected', async () => {
    const body = expectProblem(await evaluate({ expression: "type = 'a' AND\n  (subject = ", event }), 400, 'filters:parse');
    expect(body).toMatchObject({
      type: 'urn:herald:problem:filters:parse',
      title: 'The filter expression does not parse.',
      detail:
        'The expression does not parse at line 2, column 14 (offset 28): Expected an expression but found the end of the expression.',
      location: { offset: 28, line: 2, column: 14 },
      errors: { expression: ['At line 2, column 14 (offset 28): Expected an expression but found the end of the expression.'] },
    });
  });

  it(`refuses an expression over ${cesqlLimits.expressionBytes} bytes or nested too deep as filters:parse`, async () => {
    const long = expectProblem(await evaluate({ expression: `'${'x'.repeat(cesqlLimits.expressionBytes)}'`, event }), 400, 'filters:parse');
    expect(long.detail).toContain(`at most ${cesqlLimits.expressionBytes} are allowed`);
    const deep = expectProblem(await evaluate({ expression: `${'('.repeat(100)}1${')'.repeat(100)}`, event }), 400, 'filters:parse');
    expect(deep.detail).toContain('nests deeper than');
  });

  it('refuses a body without an expression or an event, naming each', async () => {
    const body = expectFieldError(await evaluate({}), 'events:invalidRequest', 'expression', "'expression' is required: a CESQL expression.");
    expect(body.errors?.event).toEqual(["'event' is required: a CloudEvent in structured JSON form."]);
    expectFieldError(await evaluate({ expression: 42, event }), 'events:invalidRequest', 'expression', /must be a string/);
    expectFieldError(await evaluate([]), 'events:invalidRequest', 'body');
    expectFieldError(await evaluate('{"expression": '), 'events:invalidRequest', 'body', /not valid JSON/);
    expectFieldError(await evaluate({ expression: 'TRUE', event: 'an event' }), 'events:invalidRequest', 'event', /must be a JSON object/);
  });

  it('refuses an event publishing would refuse, naming its attribute under event.', async () => {
    expectFieldError(await evaluate({ expression: 'TRUE', event: { ...event, time: 'yesterday' } }), 'events:invalidRequest', 'event.time');
    expectFieldError(
      await evaluate({ expression: 'TRUE', event: { ...event, resource: undefined } }),
      'events:invalidRequest',
      'event.resource',
      "A 'resource' property must be defined.",
    );
    expectFieldError(await evaluate({ expression: 'TRUE', event: { ...event, 'Bad-Name': 1 } }), 'events:invalidRequest', 'event.Bad-Name');
    expectFieldError(await evaluate({ expression: 'TRUE', event: { ...event, specversion: '0.3' } }), 'events:invalidRequest', 'event.specversion');
  });

  it('needs a token with the subscribe scope', async () => {
    expectProblem(await evaluate({ expression: 'TRUE', event }, {}), 401, 'events:unauthenticated');
    const publishOnly = await testToken({ scope: scopes.publish });
    expectProblem(await evaluate({ expression: 'TRUE', event }, { authorization: `Bearer ${publishOnly}` }), 403, 'events:forbidden');
    const subscribeOnly = await testToken({ scope: scopes.subscribe });
    expect((await evaluate({ expression: 'TRUE', event }, { authorization: `Bearer ${subscribeOnly}` })).statusCode).toBe(200);
  });

  it('stores nothing, whatever it is asked, and Herald keeps serving', async () => {
    expect(await t.store.headPosition()).toBe(0);
    await expectStillServing(t.app, t.auth);
  });
});
