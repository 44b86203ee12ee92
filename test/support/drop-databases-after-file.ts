import { afterAll, inject } from 'vitest';
import { dropFinishedDatabases } from './database-drops.js';

// Every test file drops the PostgreSQL databases its tests made, together, when it ends (database-drops.ts).
afterAll(async () => {
  await dropFinishedDatabases(inject('postgresUrl'));
}, 120_000);
