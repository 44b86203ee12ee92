import { useState } from 'preact/hooks';
import { call, localProblem } from '../api.js';
import { useIdentity } from '../identity.js';
import { useNotices } from '../notices.js';
import type { Subscription } from '../types.js';
import { Field } from '../ui.js';

interface FilterTest {
  readonly sample: number;
  readonly matched: number;
}

/**
 * The filter expressions as typed: a JSON array of filters (docs/filters.md), one filter object, or else a
 * CESQL expression, which becomes `[{ "sql": … }]`. Empty: none.
 */
export function parseFilters(text: string): unknown[] | undefined {
  const given = text.trim();
  if (given === '') return undefined;
  if (given.startsWith('[') || given.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(given);
    } catch (error) {
      throw localProblem('The filters are not valid JSON.', (error as Error).message);
    }
    return Array.isArray(parsed) ? parsed : [parsed];
  }
  return [{ sql: given }];
}

/** The "New subscription" form: POST /subscriptions, with a dry run of its filters (POST /filters/test) first. */
export function NewSubscriptionForm(props: { onCreated: (subscription: Subscription) => void }) {
  const { features } = useIdentity();
  const { say, fail } = useNotices();
  const [endpoint, setEndpoint] = useState('');
  const [resource, setResource] = useState('');
  const [source, setSource] = useState('');
  const [type, setType] = useState('');
  const [filters, setFilters] = useState('');

  /** The request as the API takes it; empty fields are left out (an empty endpoint makes a pull subscription). */
  const request = () => {
    const body: Record<string, unknown> = {};
    if (endpoint.trim()) body.endPoint = endpoint.trim();
    if (resource.trim()) body.resourceFilter = resource.trim();
    if (source.trim()) body.sourceFilter = source.trim();
    if (type.trim()) body.typeFilter = type.trim();
    const expressions = parseFilters(filters);
    if (expressions) body.filters = expressions;
    return body;
  };

  const dryRun = async () => {
    try {
      const test = await call<FilterTest>('/filters/test', { method: 'POST', body: request() });
      say(`${test.matched} of the newest ${test.sample} events match.`);
    } catch (error) {
      fail(error);
    }
  };

  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const created = await call<Subscription>('/subscriptions', { method: 'POST', body: request() });
      say(`Subscription ${created.id} created.`);
      props.onCreated(created);
    } catch (error) {
      fail(error);
    }
  };

  return (
    <form class="panel" onSubmit={create} aria-labelledby="new-subscription-heading">
      <h2 id="new-subscription-heading">New subscription</h2>
      <Field label="Endpoint" type="url" value={endpoint} onInput={setEndpoint} hint="An https webhook URL; empty makes a pull subscription." />
      <Field label="Resource" value={resource} onInput={setResource} hint="A resource URN, such as urn:altinn:resource:app_ttd_demo." />
      <Field label="Source" value={source} onInput={setSource} hint="An absolute URL; % matches any run of characters." />
      <Field label="Type" value={type} onInput={setType} hint="An exact event type." />
      <Field
        label="Filters"
        value={filters}
        onInput={setFilters}
        multiline
        hint={'A CESQL expression (subject LIKE \'/party/%\'), or filters as JSON ([{"prefix": {"type": "no.altinn."}}]).'}
      />
      <div class="actions">
        {features.filterTest && (
          <button type="button" onClick={() => void dryRun()}>
            Dry run
          </button>
        )}
        <button type="submit">Create</button>
      </div>
    </form>
  );
}

/** A new signing secret, which the API shows only once. */
export function SecretShownOnce(props: { id: number; secret: string }) {
  return (
    <section class="panel" aria-label={`Signing secret of subscription ${props.id}`}>
      <p>
        The signing secret of subscription {props.id}, shown only now: keep it where the receiver reads it.
      </p>
      <code class="secret">{props.secret}</code>
    </section>
  );
}
