import type { AttemptResponse } from '../domain/delivery-attempt.js';

/** The `status_class` label of a delivery attempt: what the receiver answered, or how it failed to. */
export type DeliveryStatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'network' | 'timeout' | 'none';

/**
 * Classes an attempt's answer for metrics, keeping the label's values few: the status class when the receiver
 * answered, `timeout` or `network` when it did not, `none` when nothing was sent.
 * @example deliveryStatusClass({ kind: 'answered', statusCode: 503 }) // '5xx'
 */
export function deliveryStatusClass(response: AttemptResponse | undefined): DeliveryStatusClass {
  if (!response) return 'none';
  if (response.kind === 'answered') {
    const hundreds = Math.floor(response.statusCode / 100);
    return hundreds >= 1 && hundreds <= 5 ? (`${hundreds}xx` as DeliveryStatusClass) : 'network';
  }
  // The sender reports every failure as a sentence; its timeouts say "No answer within …" or "… timed out".
  return /no answer within|timed out/i.test(response.error) ? 'timeout' : 'network';
}
