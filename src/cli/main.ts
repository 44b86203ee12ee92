import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.js';
import { CommandError } from './command-error.js';
import { eventsCommand } from './events-tail.js';
import { migrate } from './migrate.js';
import { serve } from './serve.js';
import { subscriptionsCommand } from './subscriptions.js';
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

Configuration comes from the environment; see .env.example.`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${usage}\n`);
    return;
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
