import { engines } from '../support/engines.js';
import { describePrismFlows } from './prism-flows.js';

// SQLite here, PostgreSQL in prism-proxy-postgres.test.ts: one Prism process per file.
describePrismFlows(engines[0]!);
