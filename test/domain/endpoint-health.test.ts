import { describe, expect, it } from 'vitest';
import { parseCloudEvent } from '../../src/domain/cloudevent.js';
import {
  defaultHealthThresholds as thresholds,
  endpointHealthStates,
  healthEvent,
  healthTransitions,
  nextHealth,
  nextProbeInterval,
} from '../../src/domain/endpoint-health.js';

describe('endpoint health transitions', () => {
  it('has exactly one transition for every state, signal and side of the threshold', () => {
    for (const from of endpointHealthStates) {
      for (const signal of ['succeeded', 'failed'] as const) {
        for (const failures of [0, 1, thresholds.failureThreshold - 1, thresholds.failureThreshold, 50]) {
          expect(() => nextHealth(from, signal, failures, thresholds)).not.toThrow();
        }
      }
    }
    expect(new Set(healthTransitions.map((t) => `${t.from}/${t.signal}/${t.atThreshold}`)).size).toBe(healthTransitions.length);
  });

  it('fails into failing, suspends at the threshold, and resumes only from a success', () => {
    expect(nextHealth('healthy', 'failed', 1, thresholds).to).toBe('failing');
    expect(nextHealth('failing', 'failed', thresholds.failureThreshold - 1, thresholds).to).toBe('failing');
    expect(nextHealth('failing', 'failed', thresholds.failureThreshold, thresholds)).toMatchObject({
      to: 'suspended',
      announce: 'herald.subscription.suspended',
    });
    expect(nextHealth('suspended', 'failed', 99, thresholds).to).toBe('suspended');
    expect(nextHealth('suspended', 'succeeded', 0, thresholds)).toMatchObject({ to: 'healthy', announce: 'herald.subscription.resumed' });
    expect(nextHealth('failing', 'succeeded', 0, thresholds)).toEqual({ from: 'failing', signal: 'succeeded', to: 'healthy' });
  });

  it('waits the first interval, then doubles, never past the maximum', () => {
    const t = { failureThreshold: 3, probeIntervalMs: 1_000, maxProbeIntervalMs: 5_000 };
    expect(nextProbeInterval(null, t)).toBe(1_000);
    expect(nextProbeInterval(1_000, t)).toBe(2_000);
    expect(nextProbeInterval(4_000, t)).toBe(5_000);
    expect(nextProbeInterval(5_000, t)).toBe(5_000);
  });
});

describe('health events', () => {
  it('are valid CloudEvents about the owner, naming no endpoint, with an id fixed by the change', () => {
    const change = { type: 'herald.subscription.suspended', subscriptionId: 11, consumer: '/org/ttd', at: 1_000, error: 'The endpoint answered 503.', failures: 10, nextProbeAt: 16_000 } as const;
    const event = healthEvent(change, 'https://events.example.com');
    expect(parseCloudEvent(event).ok).toBe(true);
    expect(event).toMatchObject({
      id: '11-suspended-1000',
      source: 'https://events.example.com/events/api/v1/subscriptions/11',
      subject: '/org/ttd',
      resource: 'urn:herald:endpoint-health',
      data: { subscriptionId: 11, health: 'suspended', lastError: 'The endpoint answered 503.', failures: 10, nextProbeAt: '1970-01-01T00:00:16.000Z' },
    });
    expect(healthEvent(change, 'https://x')).toMatchObject({ id: event.id });
    expect(JSON.stringify(event)).not.toMatch(/endpoint"|endPoint/);
  });
});
