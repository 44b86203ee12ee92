import type { DispatcherHoldings } from '../store/dispatcher-holdings.js';
import type { BudgetLedger } from './budget-ledger.js';

/** How often a running dispatcher shares its holdings with the other processes'. */
const shareIntervalMs = 250;

/**
 * Where processes share the budgets (PostgreSQL), tells the others what this dispatcher holds and hears what they
 * hold: four times a second while it runs, and before its first lease. Between exchanges a lease counts with what
 * was heard last and this process's own holdings as they are.
 */
export class HoldingsExchange {
  private heardOthers = false;
  private timer: NodeJS.Timeout | undefined;
  /** Exchanges under way: `stop` waits for them, so none writes the holdings back after they are forgotten. */
  private readonly underWay = new Set<Promise<void>>();

  constructor(
    private readonly holdings: DispatcherHoldings,
    private readonly ledger: BudgetLedger,
    private readonly owner: string,
    /** The time now and how long a holding stays true if this process dies (its leases' end). */
    private readonly window: () => { now: number; until: number },
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.exchange().catch(this.onError), shareIntervalMs);
    this.timer.unref();
  }

  /** Before a lease: if nothing was heard yet, hears it now (a process started beside busy others). */
  async beforeLease(): Promise<void> {
    if (!this.heardOthers) await this.exchange();
  }

  /** Stops sharing and forgets this process's holdings, so the others need not wait for them to expire. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.underWay);
    await this.holdings.forget(this.owner).catch(this.onError);
  }

  private exchange(): Promise<void> {
    const { now, until } = this.window();
    this.heardOthers = true;
    const exchanging = this.holdings.exchange(this.owner, this.ledger.ownHoldings(), now, until).then((others) => {
      this.ledger.readShared(others);
    });
    const tracked = exchanging.catch(() => {}).finally(() => this.underWay.delete(tracked));
    this.underWay.add(tracked);
    return exchanging;
  }
}
