import type { AttemptResponse } from '../domain/delivery-attempt.js';
import { webhookHeaders } from '../domain/webhook-signature.js';
import type { WebhookSender } from './webhook-sender.js';

/**
 * POSTs a CloudEvent to an endpoint, signed with the subscription's secrets (Standard Webhooks): one signature
 * each, during a rotation's grace period two.
 */
export function signedPost(
  sender: WebhookSender,
  endpoint: string,
  secrets: readonly string[],
  messageId: string,
  body: string,
  /** More headers: the attempt's `traceparent` when tracing. */
  extraHeaders?: Readonly<Record<string, string>>,
): Promise<AttemptResponse> {
  // Wall-clock time, whatever clock schedules the attempts: receivers check it against their own.
  const timestamp = Math.floor(Date.now() / 1000);
  return sender.send(
    endpoint,
    {
      'content-type': 'application/cloudevents+json; charset=utf-8',
      'user-agent': 'Herald',
      ...extraHeaders,
      ...webhookHeaders(secrets, messageId, timestamp, body),
    },
    body,
  );
}
