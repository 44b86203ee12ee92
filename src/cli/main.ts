import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.js';
import { CommandError } from './command-error.js';
import { listenCommand } from './consumer/listen.js';
import { pollCommand } from './consumer/poll.js';
import { publishCommand } from './consumer/publish.js';
import { pullCommand } from './consumer/pull.js';
import { eventsCommand } from './events-tail.js';
import { migrate } from './migrate.js';
import { serve } from './serve.js';
import { subscriptionsCommand } from './subscriptions.js';
import { scopes } from '../domain/identity.js';
import { defaultTokenScope, mintToken } from './token.js';

const usage = `Usage: herald <command> [options]

Commands:
  serve                 Serve the API (PORT, default 8080); migrates the database first.
      --workers <n>     Run n processes on the port (auto or 0: one per core); above 1 needs PostgreSQL
  migrate               Bring the database schema up to date, then exit.
  token [options]       Print a JWT signed with the configured or development secret.
      --scope <scopes>  Space-separated scopes (default: "${defaultTokenScope}")
      --org <org>       The org claim: the caller becomes /org/<org> (default: dev, unless --sub is given)
      --sub <subject>   The sub claim
      --ttl <duration>  Lifetime such as 30m, 1h, 7d (default: 1h)
      --operator        Add the operator scope (${scopes.operator}): every consumer's subscriptions

Operator commands (act on HERALD_DATABASE directly, for every consumer; see docs/operations.md):
  subscriptions list [--consumer <c>] [--status pending|active|disabled|inactive] [--json]
                        A table of subscriptions with their due and dead delivery counts.
  subscriptions disable <id> [--reason <text>]
                        Stop queueing and sending events to a subscription.
  subscriptions enable <id>
                        Receive again (push: after the validation handshake succeeds).
  subscriptions redrive <id> [--died-from <time>] [--died-until <time>] [--status-code N | --error-kind <kind>]
                        Put a subscription's dead deliveries (those the filters take) back in the queue.
  events tail [--after <id|~position|0>] [--from-start] [--source <uri>] [--type <t>]...
              [--resource <urn>] [--limit N] [--json] [--interval <duration>]
                        Follow the log from its head (like tail -f) until Ctrl-C.

Consumer commands (over HTTP, like any client; see docs/cli.md):
  Each takes --url <url> (HERALD_URL, default http://localhost:8080) and --token <jwt> or --token-file <path>
  (HERALD_TOKEN). Events are printed one JSON object a line (NDJSON); messages go to stderr.
  Exit codes: 0 done, 1 Herald refused or could not be reached, 2 the command was written wrong.
  publish [file|-]      Publish the event (a JSON object) or batch (an array) in file, or on stdin.
      --json            Print {"stored": [{source, id}…], "requests": n} instead of a line per event
  poll --resource <urn> | --source <uri> [--type <t>]... [--subject <s> | --alternative-subject <s>]
       [--after <id|~position|0>] [--cursor-file <path>] [--size N] [--follow]
                        Print the log's events; --cursor-file resumes where the last run stopped.
  pull <subscriptionId> [--follow] [--limit N] [--checkpoint-file <path>]
                        Print a pull subscription's queued events, acknowledging only what was printed.
  listen --port N [--host 127.0.0.1] [--path /] [--secret whsec_… | --secret-file <path>]
                        Receive push deliveries (secret also HERALD_WEBHOOK_SECRET): verify, print, answer.

Configuration comes from the environment; see .env.example.`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  // Consumer commands talk to Herald over HTTP: they need no database configuration.
  switch (command) {
    case 'publish':
      process.stdout.write(`${await publishCommand(rest)}\n`);
      return;
    case 'poll':
      return pollCommand(rest);
    case 'pull':
      return pullCommand(rest);
    case 'listen':
      return listenCommand(rest);
  }
  const config = loadConfig();
  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: { workers: { type: 'string' } } });
      return serve(config, { workers: values.workers });
    }
    case 'migrate':
      parseArgs({ args: rest, options: {} });
      process.stdout.write(`${await migrate(config)}\n`);
      return;
    case 'subscriptions':
      process.stdout.write(`${await subscriptionsCommand(config, rest)}\n`);
      return;
    case 'events':
      return eventsCommand(config, rest);
    case 'token': {
      const { values } = parseArgs({
        args: rest,
        options: {
          scope: { type: 'string' },
          org: { type: 'string' },
          sub: { type: 'string' },
          ttl: { type: 'string' },
          operator: { type: 'boolean' },
        },
      });
      process.stdout.write(`${await mintToken(config, values)}\n`);
      return;
    }
    default:
      throw new UsageError(`Unknown command '${command}'.`);
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else if (error instanceof CommandError) {
    process.stderr.write(`herald: ${error.message}\n`);
    process.exit(error.exitCode);
  } else if (
    error instanceof UsageError ||
    (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
  ) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}\n`);
  } else {
    process.stderr.write(`herald: ${(error as Error).message ?? String(error)}\n`);
  }
  process.exit(1);
});
