import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startTracing } from '../../src/observability/tracing/tracing.js';
import { engines } from '../support/engines.js';
import { createTestApp, sampleEvent } from '../support/test-app.js';

const loadedModules = () => Object.keys(createRequire(import.meta.url).cache);
/**
 * The SDK, the exporter and what they bring. `@opentelemetry/api` alone is not counted: prom-client loads it for
 * its exemplars, with or without tracing.
 */
const openTelemetryLoaded = () =>
  loadedModules().some((path) => path.includes('@opentelemetry/') && !path.includes('@opentelemetry/api/'));

it('never loads the OpenTelemetry SDK when no OTLP endpoint is set, publishing or not; it loads once one is', async () => {
  const settings = loadConfig({}).tracing;
  expect(await startTracing(settings)).toBeUndefined();
  const t = await createTestApp(engines[0]!);
  try {
    const published = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { ...t.auth, 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(sampleEvent()),
    });
    expect(published.statusCode).toBe(200);
  } finally {
    await t.close();
  }
  expect(openTelemetryLoaded()).toBe(false);

  // The check can see it: configured, the SDK's modules are there.
  const tracing = await startTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }).tracing);
  expect(tracing).toBeDefined();
  await tracing?.shutdown(100);
  expect(openTelemetryLoaded()).toBe(true);
});
