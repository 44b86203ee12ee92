import type { DeadLetterPolicy, DeliveryOrdering } from '../domain/delivery-ordering.js';
import type { EventFilter } from '../domain/event-filter.js';
import type { EndpointHealth } from '../domain/endpoint-health.js';
import type { HeraldConfig } from '../config/config.js';
import { parseConsumer } from '../domain/identity.js';
import { parseRedriveFilter, type RedriveFilter } from '../domain/redrive-filter.js';
import { defaultDisableReason, parseDisableRequest } from '../domain/disable-request.js';
import { type DisabledBy, type SubscriptionStatus, subscriptionStatuses } from '../domain/subscription-status.js';
import { disableSubscription, enableSubscription } from '../store/operator-decisions.js';
import { exactCountCap } from '../store/delivery-counts.js';
import type { SubscriptionRecord } from '../store/records.js';
import type { Store } from '../store/store.js';
import { notFound, parseCommandArgs, parseSubscriptionId, usageError } from './command-error.js';
import { withOperatorStore } from './operator-store.js';

/** What an operator sees of a subscription: everything but its signing secret, with its delivery counts. */
export interface OperatorSubscription {
  readonly id: number;
  readonly consumer: string;
  readonly createdBy: string;
  readonly status: SubscriptionStatus;
  /** While disabled: by an operator, or by its endpoint's 410 Gone. */
  readonly disabledBy: DisabledBy | null;
  readonly kind: 'push' | 'pull';
  readonly endPoint: string | null;
  /** Push only: `none`, `subject` or `partitionkey` (docs/ordering.md); null for pull. */
  readonly ordering: DeliveryOrdering | null;
  /** Ordered subscriptions only: what a dead letter does to its key; null otherwise. */
  readonly onDeadLetter: DeadLetterPolicy | null;
  /** Push only: the endpoint's health (the circuit breaker, docs/isolation.md). */
  readonly health: {
    readonly status: EndpointHealth;
    readonly since: string | null;
    readonly lastError: string | null;
    readonly failures: number;
    readonly nextProbeAt: string | null;
  } | null;
  readonly filters: {
    readonly source: string | null;
    readonly resource: string | null;
    readonly subject: string | null;
    readonly alternativeSubject: string | null;
    readonly type: string | null;
    /** The filter expressions, as their owner gave them (docs/filters.md); null for none. */
    readonly expressions: EventFilter[] | null;
  };
  readonly created: string;
  readonly validated: string | null;
  readonly lastError: string | null;
  /** Deliveries waiting (pending or retrying; for pull, queued and unacknowledged) and dead ones. */
  readonly deliveries: { readonly due: number; readonly dead: number };
}

/**
 * `herald subscriptions list|disable|enable|redrive`: an operator acts on any consumer's subscriptions,
 * straight on the database (whoever reaches the database is an operator). Each change is announced the way
 * the API announces it, so running Herald processes act on it.
 * @returns what to print on stdout
 */
export async function subscriptionsCommand(config: HeraldConfig, argv: string[]): Promise<string> {
  const [verb, ...args] = argv;
  switch (verb) {
    case 'list':
      return listCommand(config, args);
    case 'disable':
      return disableCommand(config, args);
    case 'enable':
      return enableCommand(config, args);
    case 'redrive':
      return redriveCommand(config, args);
    case undefined:
      throw usageError('subscriptions: say list, disable, enable or redrive.');
    default:
      throw usageError(`subscriptions: unknown command '${verb}' (list, disable, enable or redrive).`);
  }
}

async function listCommand(config: HeraldConfig, args: string[]): Promise<string> {
  const { values } = parseCommandArgs('subscriptions list', args, {
    consumer: { type: 'string' },
    status: { type: 'string' },
    json: { type: 'boolean' },
  });
  const status = values.status;
  if (status !== undefined && !(subscriptionStatuses as readonly string[]).includes(status)) {
    throw usageError(`subscriptions list: --status must be one of ${subscriptionStatuses.join(', ')}, not '${status}'.`);
  }
  // Matched exactly as stored: a bare sub (as older Herald named sub-only callers) would list nothing.
  if (values.consumer !== undefined && parseConsumer(values.consumer) === undefined) {
    throw usageError(
      `subscriptions list: --consumer must be a consumer as Herald names it, such as /org/ttd, /user/1337, ` +
        `/organisation/991825827 or /sub/client-7 (a sub, percent-encoded), not '${values.consumer}'.`,
    );
  }
  const listed = await withOperatorStore(config, (store) =>
    listSubscriptions(store, { consumer: values.consumer, status: status as SubscriptionStatus | undefined }),
  );
  if (values.json) return JSON.stringify({ count: listed.length, subscriptions: listed }, null, 2);
  return listed.length === 0 ? 'No subscriptions.' : subscriptionTable(listed);
}

/** The subscriptions an operator asked for, with their delivery counts. */
export async function listSubscriptions(
  store: Store,
  filter: { consumer?: string | undefined; status?: SubscriptionStatus | undefined },
): Promise<OperatorSubscription[]> {
  const found = await store.subscriptions.listBy(filter);
  const counts = await store.deliveries.counts.bySubscription(
    found.map((s) => s.id),
    exactCountCap,
  );
  return found.map((s) => {
    const { backlog, deadLetters } = counts.get(s.id) ?? { backlog: 0, deadLetters: 0 };
    return presentForOperator(s, { due: backlog, dead: deadLetters });
  });
}

function presentForOperator(s: SubscriptionRecord, deliveries: { due: number; dead: number }): OperatorSubscription {
  return {
    id: s.id,
    consumer: s.consumer,
    createdBy: s.createdBy,
    status: s.status,
    disabledBy: s.status === 'disabled' ? s.disabledBy : null,
    kind: s.endpoint === null ? 'pull' : 'push',
    endPoint: s.endpoint,
    ordering: s.endpoint === null ? null : s.ordering,
    onDeadLetter: s.endpoint === null || s.ordering === 'none' ? null : s.onDeadLetter,
    health:
      s.endpoint === null
        ? null
        : {
            status: s.health,
            since: s.healthSince === null ? null : new Date(s.healthSince).toISOString(),
            lastError: s.health === 'healthy' ? null : s.healthError,
            failures: s.consecutiveFailures,
            nextProbeAt: s.health === 'suspended' && s.probeAt !== null ? new Date(s.probeAt).toISOString() : null,
          },
    filters: {
      source: s.sourceFilter,
      resource: s.resourceFilter,
      subject: s.subjectFilter,
      alternativeSubject: s.alternativeSubjectFilter,
      type: s.typeFilter,
      expressions: s.filters ? [...s.filters] : null,
    },
    created: new Date(s.createdAt).toISOString(),
    validated: s.validatedAt === null ? null : new Date(s.validatedAt).toISOString(),
    lastError: s.lastError,
    deliveries,
  };
}

/** A plain table, columns padded to their widest cell, for a terminal or `grep`. */
function subscriptionTable(rows: readonly OperatorSubscription[]): string {
  const header = ['ID', 'CONSUMER', 'STATUS', 'HEALTH', 'ENDPOINT', 'FILTERS', 'CREATED', 'DUE', 'DEAD'];
  const cells = rows.map((s) => [
    String(s.id),
    s.consumer,
    s.status,
    s.health?.status ?? '-',
    s.endPoint ?? 'pull',
    describeFilters(s.filters),
    `${s.created.slice(0, 19)}Z`,
    String(s.deliveries.due),
    String(s.deliveries.dead),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => (row[column] ?? '').length)));
  const numeric = new Set([0, 7, 8]);
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return numeric.has(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}

/**
 * The filters in one cell. An alternative subject is usually a personal number: the table, which ends up in
 * screenshots and tickets, says only that one is set (`--json` has it).
 */
function describeFilters(filters: OperatorSubscription['filters']): string {
  const parts = [
    filters.resource && `resource=${filters.resource}`,
    filters.source && `source=${filters.source}`,
    filters.type && `type=${filters.type}`,
    filters.subject && `subject=${filters.subject}`,
    filters.alternativeSubject && 'alternativesubject=(set)',
    // Expressions may name personal numbers too, and are long: `--json` shows them.
    filters.expressions && `expressions=${filters.expressions.length}`,
  ].filter((part): part is string => Boolean(part));
  return parts.length === 0 ? '-' : parts.join(' ');
}

async function disableCommand(config: HeraldConfig, args: string[]): Promise<string> {
  const command = 'subscriptions disable';
  const { values, positionals } = parseCommandArgs(command, args, { reason: { type: 'string' } }, true);
  const id = singleId(command, positionals);
  if (values.reason === '') throw usageError(`${command}: --reason must not be empty.`);
  // The rule the API's disable checks its body by.
  const request = parseDisableRequest({ reason: values.reason });
  if (!request.ok) throw usageError(`${command}: --reason: ${request.errors[0]?.message ?? 'not valid'}`);
  return withOperatorStore(config, async (store) => {
    const outcome = await disableSubscription(store, id, request.value.reason);
    if (outcome.kind === 'notFound') throw notFound(`No subscription with id ${id}.`);
    // Left as it is: its last error says why another operator disabled it.
    if (outcome.kind === 'alreadyDisabled') {
      return `Subscription ${id} was already disabled by an operator: ${outcome.subscription.lastError ?? defaultDisableReason}`;
    }
    // One its endpoint disabled (410 Gone) becomes the operator's decision: its owner can no longer revive it.
    const was = outcome.was === 'endpoint' ? 'disabled by its endpoint' : outcome.was;
    return `Subscription ${id} disabled (was ${was}): nothing more is queued or sent to it, and only an operator can enable it.`;
  });
}

async function enableCommand(config: HeraldConfig, args: string[]): Promise<string> {
  const command = 'subscriptions enable';
  const { positionals } = parseCommandArgs(command, args, {}, true);
  const id = singleId(command, positionals);
  return withOperatorStore(config, async (store) => {
    const outcome = await enableSubscription(store, id, Date.now());
    if (outcome.kind === 'notFound') throw notFound(`No subscription with id ${id}.`);
    const enabled = outcome.subscription;
    if (enabled.endpoint === null) return `Subscription ${id} is active (pull): its queue fills again.`;
    return enabled.status === 'active'
      ? `Subscription ${id} stays active while ${enabled.endpoint} is validated again.`
      : `Subscription ${id} is pending: it becomes active once ${enabled.endpoint} answers the validation handshake.`;
  });
}

async function redriveCommand(config: HeraldConfig, args: string[]): Promise<string> {
  const command = 'subscriptions redrive';
  const { positionals, values } = parseCommandArgs(
    command,
    args,
    {
      'died-from': { type: 'string' },
      'died-until': { type: 'string' },
      'status-code': { type: 'string' },
      'error-kind': { type: 'string' },
    },
    true,
  );
  const id = singleId(command, positionals);
  const filter = redriveFilterOf(command, values);
  return withOperatorStore(config, async (store) => {
    const subscription = await existing(store, id);
    const redriven = await store.deliveries.redrive(id, Date.now(), filter);
    const noun = redriven === 1 ? 'delivery' : 'deliveries';
    const waiting =
      redriven > 0 && subscription.status !== 'active' ? ` They are sent once it is active (it is ${subscription.status}).` : '';
    return `${redriven} dead ${noun} of subscription ${id} queued again.${waiting}`;
  });
}

/** The redrive filter of the flags, checked by the rule the API's redrive uses (docs/dead-letters.md). */
function redriveFilterOf(command: string, values: Record<string, string | boolean | undefined>): RedriveFilter {
  const flag = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const statusCode = flag('status-code');
  const parsed = parseRedriveFilter({
    diedFrom: flag('died-from'),
    diedUntil: flag('died-until'),
    // A status code as typed is text: a number only if it is digits, so "5xx" is refused, not read as NaN.
    statusCode: statusCode !== undefined && /^\d{1,3}$/.test(statusCode) ? Number(statusCode) : statusCode,
    errorKind: flag('error-kind'),
  });
  if (!parsed.ok) {
    const toFlag = (field: string) => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const [first] = parsed.errors;
    throw usageError(`${command}: ${toFlag(first?.field ?? '')}: ${first?.message ?? 'not valid'}`);
  }
  return parsed.value;
}

function singleId(command: string, positionals: readonly string[]): number {
  if (positionals.length > 1) throw usageError(`${command}: one subscription id, not ${positionals.length}.`);
  return parseSubscriptionId(command, positionals[0]);
}

async function existing(store: Store, id: number): Promise<SubscriptionRecord> {
  const subscription = await store.subscriptions.get(id);
  if (!subscription) throw notFound(`No subscription with id ${id}.`);
  return subscription;
}
