/** One line of a chart: its name (in the legend) and a value per sample, null where there was none. */
export interface Series {
  readonly name: string;
  readonly values: readonly (number | null)[];
}

const width = 640;
const height = 200;
const pad = { left: 56, right: 12, top: 12, bottom: 28 };

/** A compact number for an axis: 1.2k, 35, 0.25. */
function short(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 10 || value === 0) return String(Math.round(value));
  return value.toPrecision(2);
}

const clock = (ms: number | undefined) =>
  ms === undefined ? '' : new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

/** The x axis ends at the newest sample and spans the samples, at least 5 minutes (so a fresh start looks fresh) and at most the hour. */
const shortestSpanMs = 300_000;
const longestSpanMs = 3_600_000;

/**
 * A line chart drawn as SVG by hand (no chart library: a few lines of geometry cost less than one). It is one
 * image to assistive technology, named by `label`; the figure's caption says the latest and highest values in
 * words, for everyone.
 */
export function LineChart(props: { label: string; unit: string; times: readonly string[]; series: readonly Series[] }) {
  const all = props.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const peak = all.length === 0 ? undefined : Math.max(...all);
  const top = Math.max(1, peak ?? 0);
  const n = props.times.length;
  const times = props.times.map((t) => Date.parse(t));
  const newest = times.at(-1);
  const spanMs = Math.min(longestSpanMs, Math.max(shortestSpanMs, (newest ?? 0) - (times[0] ?? 0)));
  const start = newest === undefined ? 0 : newest - spanMs;
  const x = (i: number) => pad.left + (((times[i] ?? start) - start) / spanMs) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - v / top) * (height - pad.top - pad.bottom);
  // The newest value of each series as a dot: "now", and visible even with a single sample.
  const dots = props.series.map((s) => {
    const value = s.values.at(-1);
    return value === null || value === undefined ? undefined : { cx: x(n - 1), cy: y(value) };
  });
  // A null breaks the line: no sample is not the same as zero.
  const paths = props.series.map((s) => {
    let d = '';
    let drawing = false;
    s.values.forEach((v, i) => {
      if (v === null) {
        drawing = false;
        return;
      }
      d += `${drawing ? 'L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)}`;
      drawing = true;
    });
    return d;
  });
  const latest = props.series.map((s) => `${s.name} ${describe(s.values.at(-1), props.unit)}`).join(', ');
  const highest = peak === undefined ? 'no value' : `${short(peak)} ${props.unit}`;
  return (
    <figure class="chart">
      <figcaption>
        <strong>{props.label}</strong>
        <span class="reading">{n === 0 ? 'No samples yet.' : `Now: ${latest}. Highest in the hour: ${highest}.`}</span>
      </figcaption>
      <svg role="img" aria-label={props.label} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none">
        <line class="axis" x1={pad.left} y1={height - pad.bottom} x2={width - pad.right} y2={height - pad.bottom} />
        <line class="axis" x1={pad.left} y1={pad.top} x2={pad.left} y2={height - pad.bottom} />
        <line class="grid" x1={pad.left} y1={y(top / 2)} x2={width - pad.right} y2={y(top / 2)} />
        <text class="tick" x={pad.left - 6} y={pad.top + 4} text-anchor="end">
          {short(top)}
        </text>
        <text class="tick" x={pad.left - 6} y={y(top / 2) + 4} text-anchor="end">
          {short(top / 2)}
        </text>
        <text class="tick" x={pad.left - 6} y={height - pad.bottom + 4} text-anchor="end">
          0
        </text>
        <text class="tick" x={pad.left} y={height - 8}>
          {clock(newest === undefined ? undefined : start)}
        </text>
        <text class="tick" x={width - pad.right} y={height - 8} text-anchor="end">
          {clock(newest)}
        </text>
        {paths.map((d, i) => d && <path key={i} class={`line series-${i}`} d={d} />)}
        {dots.map((dot, i) => dot && <circle key={`dot-${i}`} class={`dot series-${i}`} cx={dot.cx} cy={dot.cy} r={3} />)}
      </svg>
      {props.series.length > 1 && (
        <ul class="legend">
          {props.series.map((s, i) => (
            <li key={s.name}>
              <span class={`swatch series-${i}`} aria-hidden="true" />
              {s.name}
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}

function describe(value: number | null | undefined, unit: string): string {
  return value === null || value === undefined ? 'no value' : `${short(value)} ${unit}`;
}
