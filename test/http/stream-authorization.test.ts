import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import type { SseReader } from '../support/sse.js';
import { grant, type PolicedHerald, policedHerald, resource, secretEvent } from './authorization-harness.js';
import { idsOf, listen, refusedStream, stream } from './stream-harness.js';

describeEachEngine('Event stream under a policy on $name', (engine) => {
  let h: PolicedHerald;
  let base: string;
  let reader: SseReader | undefined;
  beforeEach(async () => {
    h = await policedHerald(engine);
    base = await listen(h.t);
  });
  afterEach(async () => {
    await reader?.close();
    await h?.close();
  });

  it('never sends an event the caller may not read, and moves past it', async () => {
    h.policy = { grants: [grant({ subjects: ['/party/1'] })] };
    const readable = secretEvent({ subject: '/party/1' });
    const hidden = secretEvent({ subject: '/party/2' });
    const later = secretEvent({ subject: '/party/1' });
    await h.publishAsAdmin(readable, hidden);
    reader = await stream(base, h.t.auth, { resource, after: '0' });
    await h.publishAsAdmin(later);
    const messages = await reader.messages(2);
    expect(idsOf(messages)).toEqual([readable.event.id, later.event.id]);
    const seen = messages.map((m) => `${m.id}\n${m.data}`).join('\n');
    for (const secret of hidden.secrets) expect(seen).not.toContain(secret);
  });

  it('applies a changed policy to the events that follow, on a stream already open', async () => {
    h.policy = { grants: [grant()] };
    reader = await stream(base, h.t.auth, { resource });
    const before = secretEvent();
    await h.publishAsAdmin(before);
    expect(idsOf(await reader.messages(1))).toEqual([before.event.id]);
    h.policy = { grants: [grant({ subjects: ['/party/9'] })] };
    const revoked = secretEvent();
    const allowed = secretEvent({ subject: '/party/9' });
    await h.publishAsAdmin(revoked, allowed);
    expect(idsOf(await reader.messages(1))).toEqual([allowed.event.id]);
  });

  it('refuses to resume after an event the caller may not read, as a poll refuses that after', async () => {
    h.policy = { grants: [grant({ subjects: ['/party/1'] })] };
    const hidden = secretEvent({ subject: '/party/2' });
    await h.publishAsAdmin(hidden);
    await refusedStream(base, h.t.auth, { resource, after: String(hidden.event.id) }, 400, 'events:unknownCursor');
  });
});
