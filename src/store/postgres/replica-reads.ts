import type { LogReader, LogReads } from '../log-reader.js';
import type { Store } from '../store.js';
import { Replica } from './replica.js';
import { ReplicaReader } from './replica-reader.js';

/** How often each replica's head and lag are measured: a replica found down or behind comes back at the next. */
const defaultCheckEveryMs = 1_000;

/** How often a replica is asked its head while requests wait for it to reach a cursor. */
const waitStepMs = 10;

export interface ReplicaReadsOptions {
  /** HERALD_REPLICA_MAX_WAIT: how long a read waits for a replica to reach its cursor before taking the primary. */
  readonly maxWaitMs: number;
  /** HERALD_REPLICA_MAX_LAG: a replica further behind the primary than this is passed over until it catches up. */
  readonly maxLagMs: number;
  readonly checkEveryMs?: number;
  readonly observer?: ReplicaReadsObserver | undefined;
}

/** What the replicas report: metrics. */
export interface ReplicaReadsObserver {
  /** A page of the log was read on `target`: `primary`, or a replica's host:port. */
  read?(target: string): void;
  /** A replica's measured lag in seconds, or `undefined` while it does not answer. */
  lag?(replica: string, seconds: number | undefined): void;
}

/** A server a read may go to: the primary (the store) or one replica. */
export interface ReadTarget {
  readonly name: string;
  readonly reader: LogReader;
  readonly replica?: ReplicaTarget;
}

/** A replica as reads see it: whether to use it, and the requests waiting for it to reach their cursors. */
export class ReplicaTarget implements ReadTarget {
  readonly name: string;
  readonly replica: this = this;
  /** Answered the last check and was not too far behind; a failed read clears it until the next check. */
  usable = false;
  lagMs: number | undefined;
  private waiters: { wanted: number; until: number; resolve: (head: number | undefined) => void }[] = [];
  private polling = false;

  constructor(readonly reader: Replica) {
    this.name = reader.name;
  }

  /**
   * This replica's head if it reaches `wanted`, now or within `maxWaitMs`; otherwise undefined. Every waiting
   * request shares one poll of the head, so a lagging replica costs one query per step, not one per request.
   */
  async reach(wanted: number, maxWaitMs: number): Promise<number | undefined> {
    const head = await this.reader.headPosition();
    if (head >= wanted) return head;
    if (maxWaitMs <= 0) return undefined;
    return new Promise((resolve) => {
      this.waiters.push({ wanted, until: Date.now() + maxWaitMs, resolve });
      void this.poll();
    });
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      while (this.waiters.length > 0) {
        await new Promise((resolve) => setTimeout(resolve, waitStepMs));
        let head: number | undefined;
        try {
          head = await this.reader.headPosition();
        } catch {
          // Down: everyone waiting goes to the primary, and the replica is left alone until the next check.
          this.usable = false;
        }
        const now = Date.now();
        this.waiters = this.waiters.filter((waiter) => {
          if (head !== undefined && head >= waiter.wanted) waiter.resolve(head);
          else if (head === undefined || now >= waiter.until) waiter.resolve(undefined);
          else return true;
          return false;
        });
      }
    } finally {
      this.polling = false;
    }
  }
}

/**
 * Polls and event streams read from hot standbys (HERALD_DATABASE_REPLICAS, docs/high-availability.md#read-replicas).
 * A standby applies the primary's commits in commit order, and positions are handed out in commit order under
 * the append lock, so what a replica shows is always a prefix of the primary's log: reading it never skips an
 * event, it only sees the newest later. The one danger is a position the replica has not reached yet (a cursor
 * from the primary or another replica): a read after it waits briefly for the replica, then reads from the
 * primary (`reaching`). Each request keeps to one server (`ReplicaReader`), so its head and its page agree.
 *
 * Replicas take turns; one that fails a read, does not answer a check, or lags more than HERALD_REPLICA_MAX_LAG
 * is passed over until a check finds it well again. With none usable every read goes to the primary.
 */
export class ReplicaReads implements LogReads {
  readonly primary: ReadTarget;
  private readonly replicas: ReplicaTarget[];
  private turn = 0;
  /** The primary's head as checks found it, oldest first: how far behind a replica is, in time. */
  private samples: { at: number; head: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** A check still running (a replica that drops packets takes the 2 s connection timeout): the next one skips. */
  private checking = false;
  private readonly announced: AnnouncedHead;

  constructor(
    private readonly store: Store & { positionsHandedOut?(): Promise<number> },
    replicas: readonly Replica[],
    private readonly options: ReplicaReadsOptions,
  ) {
    this.primary = { name: 'primary', reader: store };
    this.replicas = replicas.map((replica) => new ReplicaTarget(replica));
    this.announced = new AnnouncedHead(store);
  }

  /**
   * Opens a pool on each replica (`urls`, one host each), checks them once, and checks them again every second.
   * @example const reads = await ReplicaReads.open(store, ['postgres://herald@db3/herald'], { maxWaitMs: 1000, maxLagMs: 5000, poolSize: 10 })
   */
  static async open(store: Store & { positionsHandedOut?(): Promise<number> }, urls: readonly string[], options: ReplicaReadsOptions & { readonly poolSize: number }): Promise<ReplicaReads> {
    const reads = new ReplicaReads(store, urls.map((url) => new Replica(url, options.poolSize)), options);
    await reads.check();
    reads.timer = setInterval(() => void reads.checkUnlessChecking(), options.checkEveryMs ?? defaultCheckEveryMs);
    reads.timer.unref();
    return reads;
  }

  reader(follows: boolean): LogReader {
    return new ReplicaReader(this, follows);
  }

  /** The next usable replica in turn, or the primary when there is none. */
  pick(): ReadTarget {
    for (let i = 0; i < this.replicas.length; i++) {
      const replica = this.replicas[(this.turn + i) % this.replicas.length] as ReplicaTarget;
      if (replica.usable) {
        this.turn = (this.turn + i + 1) % this.replicas.length;
        return replica;
      }
    }
    return this.primary;
  }

  /**
   * A server whose log reaches `wanted`, and its head: `preferred` if it is a usable replica that reaches it
   * within HERALD_REPLICA_MAX_WAIT, else the primary. The primary's head is the truth, and may be below
   * `wanted` (a cursor beyond the log). The primary is waited for (as long as for a replica, at least a second)
   * when `wanted` is a position it has handed out: `vouched` (a server has shown it already), or at most its
   * sequence. A hot standby may apply a commit before the primary shows it: the primary makes a commit visible
   * only once its synchronous standby has confirmed it, and an asynchronous one may have applied it by then.
   */
  async reaching(preferred: ReadTarget | undefined, wanted: number, vouched = false): Promise<{ target: ReadTarget; head: number }> {
    const target = preferred?.replica?.usable ? preferred : this.pick();
    if (target.replica) {
      try {
        const head = await target.replica.reach(wanted, this.options.maxWaitMs);
        if (head !== undefined) return { target, head };
      } catch {
        this.failed(target);
      }
    }
    let head = await this.primary.reader.headPosition();
    if (!vouched && head < wanted && this.store.positionsHandedOut) {
      vouched = wanted <= (await this.store.positionsHandedOut().catch(() => 0));
    }
    const until = Date.now() + Math.max(this.options.maxWaitMs, 1_000);
    while (vouched && head < wanted && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, waitStepMs));
      head = await this.primary.reader.headPosition();
    }
    return { target: this.primary, head };
  }

  /** A read on `target` failed: a replica is passed over until a check finds it answering again. */
  failed(target: ReadTarget): void {
    if (target.replica) target.replica.usable = false;
  }

  /** A page of the log was read on `target`. */
  served(target: ReadTarget): void {
    this.options.observer?.read?.(target.name);
  }

  /** The primary's head read after the last announcement of a commit this process heard (`AnnouncedHead`). */
  announcedHead(): Promise<number> {
    return this.announced.current();
  }

  /**
   * One round of checks (every second, and at once when opened): the primary's head, then each replica's,
   * and from them each replica's lag: how long ago the primary had an event the replica does not have yet.
   * While the primary does not answer, replicas are measured against what it last had, and every one that
   * answers goes on serving however far behind: what it shows is still a prefix of the log, and the primary,
   * where a lagging replica's reads would go, cannot answer them.
   */
  async check(): Promise<void> {
    const now = Date.now();
    let primaryAnswers = true;
    try {
      this.samples.push({ at: now, head: await this.primary.reader.headPosition() });
    } catch {
      // The primary is down: polls from replicas go on; /ready reports the primary.
      primaryAnswers = false;
    }
    // Enough history to tell a replica within the bound from one beyond it.
    const keepFrom = now - this.options.maxLagMs - 2 * (this.options.checkEveryMs ?? defaultCheckEveryMs);
    while (this.samples.length > 1 && (this.samples[0] as { at: number }).at < keepFrom) this.samples.shift();
    await Promise.all(
      this.replicas.map(async (replica) => {
        try {
          const head = await replica.reader.headPosition();
          const behind = this.samples.find((sample) => sample.head > head);
          replica.lagMs = behind === undefined ? 0 : Date.now() - behind.at;
          replica.usable = replica.lagMs <= this.options.maxLagMs || !primaryAnswers;
        } catch {
          replica.usable = false;
          replica.lagMs = undefined;
        }
        this.options.observer?.lag?.(replica.name, replica.lagMs === undefined ? undefined : replica.lagMs / 1000);
      }),
    );
  }

  private async checkUnlessChecking(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.check();
    } finally {
      this.checking = false;
    }
  }

  /** Each replica's name, whether reads use it, and its lag in milliseconds: for tests and logs. */
  status(): { name: string; usable: boolean; lagMs: number | undefined }[] {
    return this.replicas.map(({ name, usable, lagMs }) => ({ name, usable, lagMs }));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.announced.close();
    await Promise.all(this.replicas.map((replica) => replica.reader.close()));
  }
}

/**
 * The primary's head as read after every announcement of a commit heard so far (from this process, or another
 * through NOTIFY). A stream woken by an announcement must read at least that far, or it would find nothing new
 * on a replica a few milliseconds behind and sleep until the next heartbeat. One read serves every stream woken
 * meanwhile, and none is made while nothing is announced.
 */
class AnnouncedHead {
  private heard = 0;
  private readFor = 0;
  private head = 0;
  private reading: Promise<void> | undefined;
  private stopWatching: (() => void) | undefined;

  constructor(private readonly store: Store) {}

  async current(): Promise<number> {
    // Watching starts with the first stream: a process that serves none opens no LISTEN connection for it.
    this.stopWatching ??= this.store.watch((topic) => {
      if (topic === 'events') this.heard++;
    });
    const wanted = this.heard;
    while (this.readFor < wanted) {
      this.reading ??= this.read();
      await this.reading;
    }
    return this.head;
  }

  close(): void {
    this.stopWatching?.();
  }

  private async read(): Promise<void> {
    const heard = this.heard;
    try {
      this.head = Math.max(this.head, await this.store.headPosition());
    } catch {
      // The primary is down: streams read what their replicas have, and are woken again by the next notice.
    } finally {
      this.readFor = heard;
      this.reading = undefined;
    }
  }
}
