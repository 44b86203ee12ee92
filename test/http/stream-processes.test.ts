import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresEngine, skippedIfUnavailable, type TestDatabase } from '../support/engines.js';
import { startHeraldProcess } from '../support/herald-process.js';
import { assembleHerald, type HeraldUnderTest, sampleEvent } from '../support/test-app.js';
import type { SseReader } from '../support/sse.js';
import { testToken } from '../support/tokens.js';
import { eventsPath } from './harness.js';
import { idsOf, stream, streamResource } from './stream-harness.js';

describe('Event stream across Herald processes on one PostgreSQL', () => {
  if (skippedIfUnavailable(postgresEngine)) return;
  let db: TestDatabase | undefined;
  let publisher: ChildProcess | undefined;
  let herald: HeraldUnderTest | undefined;
  let reader: SseReader | undefined;
  afterEach(async () => {
    await reader?.close();
    await herald?.close();
    publisher?.kill('SIGKILL');
    await db?.destroy();
  });

  it("a stream on one process sends an event published through another, at its commit's notice", async () => {
    db = await postgresEngine.create();
    const started = await startHeraldProcess(db.database);
    publisher = started.child;
    herald = await assembleHerald(await db.open());
    const base = await herald.app.listen({ port: 0, host: '127.0.0.1' });
    const auth = { authorization: `Bearer ${await testToken()}` };
    reader = await stream(base, auth);
    for (const id of ['elsewhere-1', 'elsewhere-2']) {
      const response = await fetch(`${started.base}${eventsPath}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(sampleEvent({ id, resource: streamResource })),
      });
      expect(response.status, await response.text()).toBe(200);
    }
    // The heartbeat (15 s) is far off: only the other process's NOTIFY wakes this stream.
    expect(idsOf(await reader.messages(2))).toEqual(['elsewhere-1', 'elsewhere-2']);
  });
});
