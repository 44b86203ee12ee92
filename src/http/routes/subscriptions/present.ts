import { formatPollPosition } from '../../../domain/poll-cursor.js';
import type { StoredAttempt } from '../../../store/attempt-repository.js';
import type { DeliveryCounts } from '../../../store/delivery-counts.js';
import type { DeliveryRecord, SubscriptionRecord } from '../../../store/records.js';
import type { ReplayRecord } from '../../../store/replay-repository.js';

const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());

/** Drops null and undefined fields: Altinn's JSON omits them. */
function compact<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

/**
 * A subscription as the API shows it (Altinn's field names, camelCase, nulls omitted). The signing secret is
 * shown only in the answer to its creation.
 */
export function presentSubscription(s: SubscriptionRecord, options: { withSecret?: boolean; counts?: DeliveryCounts | undefined } = {}) {
  return compact({
    id: s.id,
    endPoint: s.endpoint,
    sourceFilter: s.sourceFilter,
    resourceFilter: s.resourceFilter,
    subjectFilter: s.subjectFilter,
    alternativeSubjectFilter: s.alternativeSubjectFilter,
    typeFilter: s.typeFilter,
    // As its owner gave them (docs/filters.md).
    filters: s.filters,
    // Push subscriptions only (a pull queue is read in order anyway); the dead-letter policy only where it
    // means something.
    ordering: s.endpoint === null ? undefined : s.ordering,
    onDeadLetter: s.endpoint === null || s.ordering === 'none' ? undefined : s.onDeadLetter,
    consumer: s.consumer,
    createdBy: s.createdBy,
    created: iso(s.createdAt),
    validated: s.validatedAt !== null,
    status: s.status,
    lastError: s.lastError,
    // Who disabled it: an operator (only an operator enables it again; lastError is their reason) or the
    // endpoint's 410 Gone (validating it again may bring it back).
    disabledBy: s.status === 'disabled' ? s.disabledBy : undefined,
    health: s.endpoint === null ? undefined : presentHealth(s),
    nextValidationAt: s.status === 'pending' ? iso(s.nextValidationAt) : undefined,
    secret: options.withSecret ? s.secret : undefined,
    // Not the secret: when the one the last rotation replaced stops (or stopped) signing beside the new one.
    previousSecretExpires: s.endpoint === null ? undefined : iso(s.previousSecretUntil),
    // In listings and reads: what waits and what died, each counted up to a cap (docs/subscriptions.md).
    backlog: options.counts?.backlog,
    deadLetters: options.counts?.deadLetters,
    countsCapped: options.counts?.capped === true ? true : undefined,
  });
}

/** A push endpoint's health (the circuit breaker, docs/isolation.md). */
function presentHealth(s: SubscriptionRecord) {
  return compact({
    status: s.health,
    since: iso(s.healthSince),
    lastError: s.health === 'healthy' ? undefined : s.healthError,
    failures: s.health === 'healthy' ? undefined : s.consecutiveFailures,
    nextProbeAt: s.health === 'suspended' ? iso(s.probeAt) : undefined,
  });
}

export function presentDelivery(d: DeliveryRecord) {
  return compact({
    id: d.id,
    eventId: d.eventId,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    lastErrorKind: d.lastErrorKind,
    nextAttemptAt: iso(d.nextAttemptAt),
    deliveredAt: iso(d.deliveredAt),
    deadAt: d.status === 'dead' ? iso(d.deadAt) : undefined,
    created: iso(d.createdAt),
    replayId: d.replayId,
  });
}

/** One attempt as the API shows it (docs/delivery.md, "Attempts"): the answer, or why none came. */
export function presentAttempt(a: StoredAttempt) {
  return compact({
    id: a.id,
    started: iso(a.startedAt),
    durationMs: a.durationMs,
    statusCode: a.statusCode,
    headers: a.headers,
    body: a.body,
    bodyTruncated: a.statusCode === null ? undefined : a.bodyTruncated,
    errorKind: a.errorKind,
    error: a.error,
  });
}

/** A replay as the API shows it (docs/replay.md): what was asked, its range as positions, its progress. */
export function presentReplay(r: ReplayRecord) {
  return compact({
    id: r.id,
    subscriptionId: r.subscriptionId,
    status: r.status,
    events: r.events,
    enqueued: r.enqueued,
    from: iso(r.fromTime),
    after: r.afterCursor,
    until: iso(r.untilTime),
    // Positions as a poll's `after` takes them: a later replay can start where this one's range ended.
    range: { after: formatPollPosition(r.afterSeq), through: formatPollPosition(r.throughSeq) },
    position: formatPollPosition(r.position),
    created: iso(r.createdAt),
    finished: iso(r.finishedAt),
  });
}
