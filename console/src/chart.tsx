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

const clock = (iso: string | undefined) =>
  iso ? new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : '';

/**
 * A line chart drawn as SVG by hand (no chart library: a few lines of geometry cost less than one). It is one
 * image to assistive technology, named by `label`; the figure's caption says the latest and highest values in
 * words, for everyone.
 */
export function LineChart(props: { label: string; unit: string; times: readonly string[]; series: readonly Series[] }) {
  const all = props.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const top = Math.max(1, ...all);
  const n = props.times.length;
  const x = (i: number) => pad.left + (n <= 1 ? 0 : (i / (n - 1)) * (width - pad.left - pad.right));
  const y = (v: number) => pad.top + (1 - v / top) * (height - pad.top - pad.bottom);
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
  return (
    <figure class="chart">
      <figcaption>
        <strong>{props.label}</strong>
        <span class="reading">{n === 0 ? 'No samples yet.' : `Now: ${latest}. Highest: ${short(top)} ${props.unit}.`}</span>
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
          {clock(props.times[0])}
        </text>
        <text class="tick" x={width - pad.right} y={height - 8} text-anchor="end">
          {clock(props.times.at(-1))}
        </text>
        {paths.map((d, i) => d && <path key={i} class={`line series-${i}`} d={d} />)}
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
