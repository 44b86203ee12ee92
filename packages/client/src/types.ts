// The API's shapes, named once. Most come from the generated OpenAPI types (openapi.ts); the CloudEvent is the
// client's own, so `data` is any JSON whatever the document's schema says about extension attributes.
import type { components, operations } from './openapi.js';

type Schemas = components['schemas'];

/** A JSON value, as `data` holds it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A CloudEvent as Herald stores and serves it (structured mode, JSON format). */
export interface CloudEvent<Data = unknown> {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  /** Altinn's resource URN; authorization is per resource. */
  readonly resource: string;
  readonly subject?: string;
  readonly time?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly data?: Data;
  readonly data_base64?: string;
  readonly resourceinstance?: string;
  readonly alternativesubject?: string;
  /** Other extension attributes: lower-case a-z and 0-9 names, string, number or boolean values. */
  readonly [extension: string]: unknown;
}

/**
 * An event to publish: `specversion` defaults to "1.0" and `id` to a fresh UUID, filled in once before the first
 * attempt, so every retry sends the same (`source`, `id`) and Herald stores it once.
 */
export type EventToPublish<Data = unknown> = Omit<CloudEvent<Data>, 'specversion' | 'id'> & {
  readonly specversion?: '1.0';
  readonly id?: string;
};

/** The body of an operation's success answer (200, 201 or 202), whatever its media type. */
export type Answer<K extends keyof operations> = ContentOf<operations[K]['responses'][Extract<keyof operations[K]['responses'], 200 | 201 | 202>]>;
type ContentOf<R> = R extends { content: infer C } ? (C extends Record<string, unknown> ? C[keyof C] : undefined) : undefined;

export type Problem = Schemas['Problem'];
export type Subscription = Schemas['Subscription'];
export type SubscriptionRequest = Schemas['SubscriptionRequest'];
export type Delivery = Schemas['Delivery'];
export type DeliveryDetail = Schemas['DeliveryDetail'];
export type DeliveryAttempt = Schemas['Attempt'];
export type Replay = Schemas['Replay'];
export type ReplayRequest = Schemas['ReplayRequest'];
export type RedriveFilter = Schemas['RedriveRequest'];
export type SecretRotation = Schemas['SecretRotation'];
export type EventFilter = Schemas['EventFilter'];
export type FilterEvaluation = Schemas['FilterEvaluation'];
export type FilterTest = Schemas['FilterTest'];
export type FilterTestRequest = Schemas['FilterTestRequest'];
export type SubscriptionPage = Answer<'listSubscriptions'>;
export type DeliveryPage = Answer<'listDeliveries'>;
export type DeliveryAttemptPage = Answer<'listDeliveryAttempts'>;
export type PingResult = Answer<'pingSubscription'>;
export type DeliveryStatus = Delivery['status'];
