import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { StoreListener, StoreTopic } from '../store.js';

/** The NOTIFY channel of each topic. */
export const channels: Record<StoreTopic, string> = {
  subscriptions: 'herald_subscriptions',
  deliveries: 'herald_deliveries',
  events: 'herald_events',
};

const reconnectDelayMs = 1_000;

/**
 * Carries announcements between Herald processes sharing one database: a dedicated connection LISTENs to
 * each topic's channel and reconnects when the database goes away. After every (re)connection each topic is
 * announced once, so whatever was missed while disconnected is picked up.
 */
export class PostgresNotifications {
  private readonly local = new EventEmitter();
  private client: pg.Client | undefined;
  private listening = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly connectionString: string) {
    // Every long-polling read listens while it waits: there is no sensible bound.
    this.local.setMaxListeners(0);
  }

  listen(listener: StoreListener): () => void {
    this.local.on('topic', listener);
    if (!this.listening) {
      this.listening = true;
      void this.connect();
    }
    return () => this.local.off('topic', listener);
  }

  /** Announces to this process's listeners at once (other processes hear the NOTIFY). */
  announceLocally(topic: StoreTopic, subscriptionIds?: readonly number[]): void {
    this.local.emit('topic', topic, subscriptionIds);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await this.client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: 5_000 });
    this.client = client;
    client.on('notification', (message) => {
      const topic = (Object.keys(channels) as StoreTopic[]).find((t) => channels[t] === message.channel);
      if (topic) this.local.emit('topic', topic, subscriptionIdsIn(message.payload));
    });
    client.on('error', () => this.reconnect(client));
    client.on('end', () => this.reconnect(client));
    try {
      await client.connect();
      for (const channel of Object.values(channels)) await client.query(`LISTEN ${channel}`);
      for (const topic of Object.keys(channels) as StoreTopic[]) this.local.emit('topic', topic);
    } catch {
      this.reconnect(client);
    }
  }

  private reconnect(client: pg.Client): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => {});
    this.reconnectTimer = setTimeout(() => void this.connect(), reconnectDelayMs);
    this.reconnectTimer.unref();
  }
}

/** The subscriptions a notice names (`12,14`), or undefined for one that names none: anything may have changed. */
function subscriptionIdsIn(payload: string | undefined): number[] | undefined {
  if (!payload || !/^\d+(,\d+)*$/.test(payload)) return undefined;
  return payload.split(',').map(Number);
}
