// The consumer commands written wrong: exit 2 and one line on stderr, before any request is sent (the URL
// points at a port nobody listens on). And `herald --help` names them.
import { describe, expect, it } from 'vitest';
import { isOneLineError } from './herald-cli.js';
import { consumerEnv, runConsumer } from './consumer-cli.js';

const env = consumerEnv('http://127.0.0.1:9', 'a-token-that-must-never-be-printed');

describe('consumer commands written wrong', () => {
  it.each([
    ['publish a batch with a stray item', ['publish', '-'], '[{"type":"x"}, 3]', /item \[1\]/],
    ['poll without --resource or --source', ['poll', '--follow'], undefined, /--resource or --source/],
    ['pull with no subscription id', ['pull', 'twelve'], undefined, /not a subscription id/],
    ['publish with a token file that is not there', ['publish', '--token-file', '/nonexistent/token', '-'], '{}', /cannot read --token-file/],
    ['poll with both --token and --token-file', ['poll', '--resource', 'urn:a:b', '--token', 'x', '--token-file', 'y'], undefined, /not both/],
    ['listen without a port', ['listen', '--secret', 'whsec_c2VjcmV0'], undefined, /--port/],
  ])('%s: exit 2, one line', async (_name, args, input, message) => {
    const result = await runConsumer(args, env, input);
    expect(result.code).toBe(2);
    expect(isOneLineError(result.stderr)).toBe(true);
    expect(result.stderr).toMatch(message);
    expect(result.stderr + result.stdout).not.toContain('a-token-that-must-never-be-printed');
  });

  it('herald --help lists the consumer commands with their flags', async () => {
    const result = await runConsumer(['--help'], env);
    expect(result.code).toBe(0);
    for (const text of ['publish [file|-]', 'poll --resource', '--cursor-file', 'pull <subscriptionId>', '--checkpoint-file', 'listen --port N', 'HERALD_TOKEN']) {
      expect(result.stdout).toContain(text);
    }
  });
});
