import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { clientTypesPath, generateClientTypes } from '../../scripts/client-types.js';

it('the client types committed in packages/client/src/openapi.ts are those of the document Herald serves now (else: npm run client:types)', async () => {
  const committed = readFileSync(clientTypesPath, 'utf8');
  const current = await generateClientTypes();
  expect(committed === current, 'packages/client/src/openapi.ts is stale: run `npm run client:types` and commit it').toBe(true);
});
