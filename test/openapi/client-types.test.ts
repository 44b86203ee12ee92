import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { scratchFolder, writeServedDocument } from './served-document.js';

const run = promisify(execFile);
const bin = (name: string) => resolve('node_modules/.bin', name);

/**
 * What a client developer writes against types generated from the document: it must compile under strict
 * TypeScript without a cast. Each line is a promise the document makes (issue 16).
 */
const usage = `
import type { components, paths } from './api.js';

type CloudEvent = components['schemas']['CloudEvent'];
type Publish = paths['/events/api/v1/events']['post'];
type PublishBody = NonNullable<Publish['requestBody']>['content'];

// Any JSON as data, beside the attributes and the named extensions.
const one: PublishBody['application/cloudevents+json'] = {
  specversion: '1.0',
  id: 'order-42',
  source: 'https://shop.example/orders',
  type: 'order.created',
  resource: 'urn:altinn:resource:shop',
  data: { orderId: 42 },
  partitionkey: 'customer-7',
};
// A batch is an array of events, no cast.
const batch: PublishBody['application/cloudevents-batch+json'] = [one, { ...one, id: 'order-43', data: [1, 'two', null] }];
// Binary mode: its attributes are typed headers.
const binaryHeaders: NonNullable<Publish['parameters']['header']> = { 'ce-id': 'b1', 'ce-type': 't', 'ce-source': 's', 'ce-specversion': '1.0', 'ce-resource': 'urn:a:b' };

// Polling: 'after' is required, 'size' a number, and the page an array of events whose data is unknown JSON.
type Poll = paths['/events/api/v1/events']['get'];
const query: Poll['parameters']['query'] = { after: '0', resource: 'urn:altinn:resource:shop', size: 100, type: ['order.created'] };
// @ts-expect-error 'after' is required
const noCursor: Poll['parameters']['query'] = { resource: 'urn:altinn:resource:shop' };
const pollHeaders: NonNullable<Poll['parameters']['header']> = { 'Altinn-AlternativeSubject': '/person/16069412345' };
declare const page: Poll['responses'][200]['content']['application/cloudevents-batch+json'];
for (const event of page) {
  const data: unknown = event.data;
  const id: string = event.id;
  const resource: string = event.resource;
  void [data, id, resource];
}
const next: Poll['responses'][200]['headers']['next'] = 'https://herald.example/events/api/v1/events?after=~1';

// Pulling: limit and wait are numbers.
type Pull = paths['/events/api/v1/subscriptions/{id}/events']['get'];
const pull: Pull['parameters']['query'] = { limit: 100, wait: 5 };
declare const pulled: Pull['responses'][200]['content']['application/json'];
const checkPoint: string = pulled.checkPoint;
const queued: CloudEvent[] = pulled.events;

// Problems carry a stable code, also the 415 of creating a subscription.
type Create = paths['/events/api/v1/subscriptions']['post'];
declare const unsupported: Create['responses'][415]['content']['application/problem+json'];
const code: string = unsupported.code;

export const used = [batch, binaryHeaders, query, noCursor, pollHeaders, next, pull, checkPoint, queued, code];
`;

describe('a client generated from the OpenAPI document with openapi-typescript', () => {
  const folder = scratchFolder('client-types');
  afterAll(() => folder.remove());

  it('type-checks ordinary use: data as any JSON, batches as arrays, typed parameters and problems', async () => {
    const { file } = await writeServedDocument(folder.path);
    await run(bin('openapi-typescript'), [file, '--output', join(folder.path, 'api.ts')]);
    writeFileSync(join(folder.path, 'usage.ts'), usage);
    const compiled = await run(
      bin('tsc'),
      ['--noEmit', '--strict', '--noUncheckedIndexedAccess', '--exactOptionalPropertyTypes', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', 'false', 'usage.ts'],
      { cwd: folder.path },
    ).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(compiled).toBe('');
  }, 120_000);
});
