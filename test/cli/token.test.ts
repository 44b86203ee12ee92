import { describe, expect, it } from 'vitest';
import { defaultTokenScope, tokenScope } from '../../src/cli/token.js';

describe('herald token --scope and --operator', () => {
  it('gives the default scopes, or those asked for', () => {
    expect(tokenScope({})).toBe(defaultTokenScope);
    expect(tokenScope({ scope: 'altinn:events.subscribe' })).toBe('altinn:events.subscribe');
  });

  it('adds the operator scope once to whichever scopes', () => {
    expect(tokenScope({ operator: true })).toBe(`${defaultTokenScope} herald:operator`);
    expect(tokenScope({ scope: 'altinn:events.subscribe', operator: true })).toBe('altinn:events.subscribe herald:operator');
    expect(tokenScope({ scope: 'HERALD:OPERATOR', operator: true })).toBe('HERALD:OPERATOR');
    expect(tokenScope({ scope: 'herald:operator', operator: false })).toBe('herald:operator');
  });
});
