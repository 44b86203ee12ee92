import { createHash } from 'node:crypto';
import { exceedsBytes, subscriptionFieldLimits, tooLong } from './attribute-limits.js';
import { hasControlCharacters } from './control-characters.js';
import {
  type DeadLetterPolicy,
  type DeliveryOrdering,
  defaultOrdering,
  isDeadLetterPolicy,
  isDeliveryOrdering,
  orderingMessages,
} from './delivery-ordering.js';
import { parseEndpoint } from './endpoint.js';
import { type EventFilter, parseEventFilters } from './event-filter.js';
import { isValidResourceUrn } from './resource-urn.js';
import { accepted, type FieldError, type Parsed } from './validation.js';

/** What a subscriber asks for: where to push (none: a pull subscription) and which events. */
export interface SubscriptionSpec {
  readonly endpoint: string | null;
  readonly sourceFilter: string | null;
  readonly resourceFilter: string | null;
  readonly subjectFilter: string | null;
  readonly alternativeSubjectFilter: string | null;
  readonly typeFilter: string | null;
  /**
   * The Subscriptions API's filter expressions (docs/filters.md), as given; every one must hold, besides the
   * filters above. Unset or null: none.
   */
  readonly filters?: readonly EventFilter[] | null;
  /** Push subscriptions: which key, if any, orders deliveries (docs/ordering.md); unset is 'none'. */
  readonly ordering?: DeliveryOrdering;
  /** Ordered subscriptions: whether a dead letter stops its key; unset is 'skip'. */
  readonly onDeadLetter?: DeadLetterPolicy;
}

/** The request's fields by their lower-cased names: Altinn binds them case-insensitively (`endpoint`). */
const fieldNames = {
  endpoint: 'endPoint',
  sourcefilter: 'sourceFilter',
  resourcefilter: 'resourceFilter',
  subjectfilter: 'subjectFilter',
  alternativesubjectfilter: 'alternativeSubjectFilter',
  typefilter: 'typeFilter',
} as const;

/** How deliveries are ordered: a choice among a few names rather than a filter, so read apart from the filters. */
const orderingFields = { ordering: 'ordering', ondeadletter: 'onDeadLetter' } as const;

export const subscriptionMessages = {
  invalidEndpoint: 'Missing or invalid endpoint to push events towards',
  invalidSourceFilter: 'SourceFilter must be an absolute URL with the https scheme.',
  invalidResourceFilter: 'Resource filter must be a valid urn',
  missingFilter: 'Resource filter is required.',
} as const;

/** Altinn's message for a field whose value is malformed, where it has one. */
const altinnMessages: Partial<Record<string, string>> = {
  endpoint: subscriptionMessages.invalidEndpoint,
  sourcefilter: subscriptionMessages.invalidSourceFilter,
  resourcefilter: subscriptionMessages.invalidResourceFilter,
};

export interface SubscriptionRequestRules {
  /** Plain http endpoints are allowed (development and tests). */
  readonly allowHttp: boolean;
  /** A subscription without an endpoint is a pull subscription; otherwise the endpoint is required. */
  readonly allowPull: boolean;
}

/**
 * Validates a subscription request with Altinn's rules and messages, and refuses what Altinn silently
 * stores: empty-string filters, which never match. Unknown fields (a `consumer`, say) are ignored.
 */
export function parseSubscriptionRequest(
  body: unknown,
  rules: SubscriptionRequestRules,
): Parsed<SubscriptionSpec> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      errors: [{ field: 'body', message: 'A subscription request must be a JSON object.' }],
    };
  }
  const errors: FieldError[] = [];
  const fields: Partial<Record<keyof typeof fieldNames, string>> = {};
  const options: { ordering?: DeliveryOrdering; onDeadLetter?: DeadLetterPolicy } = {};
  let filters: EventFilter[] | undefined;
  for (const [key, value] of Object.entries(body)) {
    const name = key.toLowerCase();
    if (value === null || value === undefined) continue;
    if (name === 'filters') {
      const parsed = parseEventFilters(value, key);
      if (parsed.ok) filters = parsed.value;
      else errors.push(...parsed.errors);
      continue;
    }
    if (name === 'ordering') {
      if (isDeliveryOrdering(value)) options.ordering = value;
      else errors.push({ field: orderingFields.ordering, message: orderingMessages.ordering });
      continue;
    }
    if (name === 'ondeadletter') {
      if (isDeadLetterPolicy(value)) options.onDeadLetter = value;
      else errors.push({ field: orderingFields.ondeadletter, message: orderingMessages.onDeadLetter });
      continue;
    }
    if (!Object.hasOwn(fieldNames, name)) continue;
    const field = fieldNames[name as keyof typeof fieldNames];
    if (typeof value !== 'string') errors.push({ field, message: `'${field}' must be a string.` });
    // An empty endpoint gets Altinn's message, which clients match on; "omit it to match every value" would
    // be wrong advice for the one field that is not a filter.
    else if (name === 'endpoint' && value.trim() === '')
      errors.push({ field, message: subscriptionMessages.invalidEndpoint });
    else if (value.trim() === '')
      errors.push({ field, message: `'${field}' must not be empty: omit it to match every value.` });
    // PostgreSQL text cannot hold U+0000, and events holding control characters are refused: such a value
    // would fail to store, or be a filter that never matches.
    else if (hasControlCharacters(value)) {
      const message = altinnMessages[name] ?? `'${field}' must not hold control characters.`;
      errors.push({ field, message });
    } else if (isTooLong(field, value)) {
      // Altinn's wording first, where it has one, for clients that match on it.
      const limit = subscriptionFieldLimits[field as keyof typeof subscriptionFieldLimits];
      const altinn = altinnMessages[name];
      const reason = `'${field}' ${tooLong(value, limit)}`;
      errors.push({ field, message: altinn ? `${altinn.replace(/\.$/, '')}: ${reason}` : reason });
    } else fields[name as keyof typeof fieldNames] = value;
  }

  const endpoint = fields.endpoint;
  if (
    endpoint === undefined
      ? !rules.allowPull && !errors.some((e) => e.field === 'endPoint')
      : !parseEndpoint(endpoint, rules.allowHttp)
  ) {
    errors.push({ field: 'endPoint', message: subscriptionMessages.invalidEndpoint });
  }
  const source = fields.sourcefilter;
  // The URL parser drops surrounding spaces, but the filter is matched as written: with white space in it,
  // it would be stored and never match.
  if (source !== undefined && (/\s/.test(source) || !isAbsoluteHttpsUrl(source.replace(/%/g, 'x')))) {
    errors.push({ field: 'sourceFilter', message: subscriptionMessages.invalidSourceFilter });
  }
  const resource = fields.resourcefilter;
  if (resource !== undefined && !isValidResourceUrn(resource)) {
    errors.push({ field: 'resourceFilter', message: subscriptionMessages.invalidResourceFilter });
  }
  if (
    resource === undefined &&
    source === undefined &&
    !errors.some((e) => /^(resource|source)Filter$/.test(e.field))
  ) {
    errors.push({ field: 'resourceFilter', message: subscriptionMessages.missingFilter });
  }
  const ordering = options.ordering ?? defaultOrdering.ordering;
  const onDeadLetter = options.onDeadLetter ?? defaultOrdering.onDeadLetter;
  // A pull queue is read in log order by its one reader: asking for ordering there would promise nothing more.
  if (endpoint === undefined && ordering !== 'none') errors.push({ field: 'ordering', message: orderingMessages.pull });
  if (ordering === 'none' && onDeadLetter === 'block') errors.push({ field: 'onDeadLetter', message: orderingMessages.blockUnordered });
  if (errors.length > 0) return { ok: false, errors };
  return accepted({
    endpoint: endpoint ?? null,
    sourceFilter: source ?? null,
    resourceFilter: resource ?? null,
    subjectFilter: fields.subjectfilter ?? null,
    alternativeSubjectFilter: fields.alternativesubjectfilter ?? null,
    typeFilter: fields.typefilter ?? null,
    ...(filters ? { filters } : {}),
    ordering,
    onDeadLetter,
  });
}

/** Every stored field has a limit; `resourceFilter` is bounded by Altinn's URN rule. */
function isTooLong(field: string, value: string): boolean {
  return (
    Object.hasOwn(subscriptionFieldLimits, field) &&
    exceedsBytes(value, subscriptionFieldLimits[field as keyof typeof subscriptionFieldLimits])
  );
}

/** Source filters are https always (Altinn's rule): `allowHttp` concerns where Herald sends, not what it matches. */
function isAbsoluteHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * What makes two subscriptions the same: one consumer, one endpoint, the same filters, the same ordering.
 * Stored under a unique constraint, so concurrent identical requests create one subscription. Unordered
 * subscriptions hash as they did before ordering existed, so asking again still finds the ones made then.
 */
export function subscriptionIdentity(consumer: string, spec: SubscriptionSpec): string {
  const tuple = [
    consumer,
    spec.endpoint,
    spec.sourceFilter,
    spec.resourceFilter,
    spec.subjectFilter,
    spec.alternativeSubjectFilter,
    spec.typeFilter,
    ...((spec.ordering ?? defaultOrdering.ordering) === defaultOrdering.ordering
      ? []
      : [spec.ordering, spec.onDeadLetter ?? defaultOrdering.onDeadLetter]),
    // Likewise, subscriptions without filter expressions hash as they did before there were any.
    ...(spec.filters ? [{ filters: spec.filters }] : []),
  ];
  return createHash('sha256').update(JSON.stringify(tuple)).digest('hex');
}
