import type { Subscription } from './types.js';

/** The Altinn filters and the filter expressions of a subscription, in one line. */
export function filtersOf(s: Subscription): string {
  const parts = [
    s.resourceFilter && `resource ${s.resourceFilter}`,
    s.sourceFilter && `source ${s.sourceFilter}`,
    s.typeFilter && `type ${s.typeFilter}`,
    s.subjectFilter && `subject ${s.subjectFilter}`,
    s.alternativeSubjectFilter && `alternative subject ${s.alternativeSubjectFilter}`,
    s.filters && s.filters.length > 0 && JSON.stringify(s.filters),
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : 'every event';
}

export const endpointOf = (s: Subscription) => s.endPoint ?? 'pull';

/** Its status, with who disabled it when it is disabled. */
export function statusOf(s: Subscription): string {
  if (s.status === 'disabled' && s.disabledBy) return `disabled (by ${s.disabledBy})`;
  return s.status;
}

export const healthOf = (s: Subscription) => s.health?.status ?? (s.endPoint ? '—' : 'pull');
