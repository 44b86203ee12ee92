import { postgresEngine } from '../support/engines.js';
import { describePrismFlows } from './prism-flows.js';

// PostgreSQL here, SQLite in prism-proxy.test.ts: one Prism process per file.
describePrismFlows(postgresEngine);
