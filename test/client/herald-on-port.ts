import type { AddressInfo } from 'node:net';
import type { TestDatabase } from '../support/engines.js';
import { type AssembleOptions, assembleHerald, type HeraldUnderTest } from '../support/test-app.js';

/**
 * Herald listening on loopback over a test database, which a test can stop and start again on the same port
 * and database, as a restart in production would: the client under test sees refused connections meanwhile.
 */
export class RestartableHerald {
  herald!: HeraldUnderTest;
  port = 0;
  private running = false;

  private constructor(
    private readonly db: TestDatabase,
    private readonly options: AssembleOptions,
    private readonly startDispatcher: boolean,
  ) {}

  static async start(db: TestDatabase, options: AssembleOptions = {}, startDispatcher = false): Promise<RestartableHerald> {
    const server = new RestartableHerald(db, options, startDispatcher);
    await server.start();
    return server;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // Next links point at the address the request came to, so a client follows them back to this port.
    const store = await this.db.open();
    this.herald = await assembleHerald(store, { baseUrl: undefined, ...this.options });
    await this.herald.app.listen({ port: this.port, host: '127.0.0.1' });
    this.port = (this.herald.app.server.address() as AddressInfo).port;
    if (this.startDispatcher) this.herald.dispatcher.start();
    this.running = true;
  }

  /** Closes the server (in-flight requests finish, new ones are refused) and the store under it. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.herald.app.server.closeIdleConnections();
    await this.herald.close();
    await this.herald.store.close().catch(() => {});
  }

  async restart(downForMs: number): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, downForMs));
    await this.start();
  }
}
