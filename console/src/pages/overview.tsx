import { call } from '../api.js';
import { LineChart } from '../chart.js';
import type { Overview } from '../types.js';
import { PageHeading, useLoaded } from '../ui.js';

/** Herald's own figures over the last hour (GET /overview), one chart each, refreshed as samples come. */
export function OverviewPage() {
  const { value } = useLoaded(() => call<Overview>('/overview'), [], 10_000);
  const samples = value?.samples ?? [];
  const times = samples.map((s) => s.time);
  const of = (pick: (s: Overview['samples'][number]) => number | null) => samples.map(pick);
  return (
    <section>
      <PageHeading>Overview</PageHeading>
      <p>
        The last hour, sampled every {value?.intervalSeconds ?? 10} seconds from this Herald&apos;s own metrics (empty
        just after a start).
      </p>
      <div class="charts">
        <LineChart label="Published events per second" unit="/s" times={times} series={[{ name: 'Published', values: of((s) => s.publishedPerSecond) }]} />
        <LineChart label="Deliveries per second" unit="/s" times={times} series={[{ name: 'Delivered', values: of((s) => s.deliveredPerSecond) }]} />
        <LineChart
          label="Publish-to-delivery latency"
          unit="ms"
          times={times}
          series={[
            { name: 'p50', values: of((s) => s.latencyP50Ms) },
            { name: 'p99', values: of((s) => s.latencyP99Ms) },
          ]}
        />
        <LineChart label="Backlog" unit="deliveries" times={times} series={[{ name: 'Backlog', values: of((s) => s.backlog) }]} />
        <LineChart label="Dead letters" unit="deliveries" times={times} series={[{ name: 'Dead letters', values: of((s) => s.deadLetters) }]} />
      </div>
    </section>
  );
}
