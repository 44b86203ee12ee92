import type { ChildProcess } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { startHeraldProcess } from '../support/herald-process.js';
import { type Receiver, type ReceivedRequest, startReceiver } from '../support/receiver.js';
import { sampleEvent } from '../support/test-app.js';

export const api = '/events/api/v1';

/**
 * Every process of a fleet: no rate limits in the way; attempts time out after 5 s and a dead process's leases
 * lapse 1 s after that, so a takeover happens within seconds, not the default minute; a short retry ladder.
 */
export const fleetEnv = {
  HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true',
  HERALD_PUBLISH_RATE_LIMIT: '0',
  HERALD_READ_RATE_LIMIT: '0',
  HERALD_DELIVERY_TIMEOUT: '5s',
  HERALD_DELIVERY_LEASE_MARGIN: '1s',
  HERALD_RETRY_SCHEDULE: '300ms,300ms,1s,1s,2s,2s,5s,5s,5s,5s,5s',
  HERALD_DATABASE_POOL_SIZE: '4',
};

/** One `herald serve` of the fleet; `base` changes when the process is replaced. */
export interface Member {
  readonly name: string;
  child: ChildProcess;
  base: string;
  alive: boolean;
}

/** Starts `herald serve` as a member of the fleet on `database`. */
export async function startMember(name: string, database: string, env: Record<string, string>): Promise<Member> {
  const { child, base } = await startHeraldProcess(database, env);
  const member: Member = { name, child, base, alive: true };
  child.once('exit', () => {
    if (member.child === child) member.alive = false;
  });
  return member;
}

/** Kills a member as a crash would (SIGKILL) and waits until it is gone. */
export async function killMember(member: Member): Promise<void> {
  const exited = new Promise((resolve) => member.child.once('exit', resolve));
  member.child.kill('SIGKILL');
  await exited;
  member.alive = false;
}

/** Starts a new process in a killed member's place, on the same database. */
export async function replaceMember(member: Member, database: string, env: Record<string, string>): Promise<void> {
  const { child, base } = await startHeraldProcess(database, env);
  member.child = child;
  member.base = base;
  member.alive = true;
  child.once('exit', () => {
    if (member.child === child) member.alive = false;
  });
}

/**
 * Publishes a batch (or one event) through `members[first]`, moving on to the next living member when a
 * process does not answer or answers 5xx: the publisher's side of "a process died", made safe by
 * idempotency on (source, id). Resolves with the member that acknowledged it.
 */
export async function publishSurely(
  members: readonly Member[],
  first: number,
  events: readonly Record<string, unknown>[],
  authorization: string,
): Promise<Member> {
  const single = events.length === 1;
  for (let attempt = 0; attempt < 60; attempt++) {
    const member = members[(first + attempt) % members.length] as Member;
    if (!member.alive) continue;
    const response = await fetch(`${member.base}${api}/events`, {
      method: 'POST',
      headers: {
        authorization,
        'content-type': single ? 'application/cloudevents+json' : 'application/cloudevents-batch+json',
      },
      body: JSON.stringify(single ? events[0] : events),
    }).catch(() => undefined);
    if (response?.status === 200) {
      await response.body?.cancel();
      return member;
    }
    if (response && response.status < 500) throw new Error(`publish refused: ${response.status} ${await response.text()}`);
    await response?.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no process acknowledged a publish');
}

/** The events of the scale test: one source, ids in order of creation. */
export function orderEvents(from: number, count: number, source: string): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => sampleEvent({ id: `order-${from + i}`, source, type: 'scale.order' }));
}

/**
 * Reads the log from `after=0` following `next`, asking whichever process `member()` names at the moment,
 * so a poller survives its process dying: the cursor in a `next` link works on every process.
 */
export class Poller {
  readonly seen: string[] = [];
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly member: () => Member,
    private readonly query: string,
    private readonly authorization: string,
  ) {}

  start(): void {
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async run(): Promise<void> {
    let path = `${api}/events?after=0&${this.query}`;
    while (!this.stopped) {
      const response = await fetch(`${this.member().base}${path}`, { headers: { authorization: this.authorization } }).catch(
        () => undefined,
      );
      if (response?.status !== 200) {
        await response?.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const page = (await response.json()) as { id: string }[];
      this.seen.push(...page.map((event) => event.id));
      const next = new URL(response.headers.get('next') as string);
      path = `${next.pathname}${next.search}`;
      if (page.length === 0) await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }
}

/**
 * A webhook receiver that can hold its answers (so attempts pile up in flight) and notices attempts whose
 * sender vanished before the answer: the connection closed under an unanswered request.
 */
export class HoldingReceiver {
  readonly abandoned: ReceivedRequest[] = [];
  /** Every request with the moment it arrived (performance.now()). */
  readonly arrivals: { request: ReceivedRequest; at: number }[] = [];
  /** When it last answered a validation handshake 2xx. */
  validatedAt: number | undefined;
  /** The status event deliveries get (handshakes always get 200). */
  status = 200;
  private holding = false;
  private readonly held: { request: ReceivedRequest; response: ServerResponse }[] = [];

  private constructor(readonly receiver: Receiver) {}

  static async start(): Promise<HoldingReceiver> {
    const receiver = await startReceiver();
    const holder = new HoldingReceiver(receiver);
    receiver.behave((request, response) => holder.answer(request, response));
    return holder;
  }

  get url(): string {
    return this.receiver.url;
  }

  /** Attempts waiting for an answer right now, each with its sender still connected. */
  get heldCount(): number {
    return this.held.length;
  }

  /** The attempts waiting for an answer right now. */
  heldRequests(): ReceivedRequest[] {
    return this.held.map((h) => h.request);
  }

  hold(): void {
    this.holding = true;
  }

  /** Answers every held attempt 200 (those whose sender died are already gone) and stops holding. */
  release(): void {
    this.holding = false;
    for (const { response } of this.held.splice(0)) if (!response.destroyed) response.writeHead(200).end();
  }

  /** Events received, retries included (validation handshakes left out). */
  events(): ReceivedRequest[] {
    return this.receiver.events();
  }

  close(): Promise<void> {
    return this.receiver.close();
  }

  private answer(request: ReceivedRequest, response: ServerResponse): 'handled' {
    this.arrivals.push({ request, at: performance.now() });
    response.once('close', () => {
      if (response.writableFinished) return;
      // The sender hung up unanswered: it died (or gave up at its timeout). Not held any more.
      this.abandoned.push(request);
      const index = this.held.findIndex((h) => h.response === response);
      if (index >= 0) this.held.splice(index, 1);
    });
    if (request.json.type === 'platform.events.validatesubscription') {
      this.validatedAt = performance.now();
      response.writeHead(200).end();
    } else if (this.holding) {
      this.held.push({ request, response });
    } else {
      response.writeHead(this.status).end();
    }
    return 'handled';
  }
}

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
