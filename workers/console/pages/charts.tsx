/** @jsxImportSource hono/jsx */

/**
 * Server-rendered SVG charts (no chart library, no script): each is an image with a title and description for
 * screen readers, followed by the same numbers as a table.
 */
export interface Series {
  name: string;
  points: Array<{ start: string; count: number }>;
}

export function StackedBars(props: { id: string; title: string; buckets: string[]; series: Series[]; bucketLabel: (start: string) => string }) {
  const { buckets, series } = props;
  const width = 640;
  const height = 220;
  const pad = { left: 40, bottom: 30, top: 10 };
  const totals = buckets.map((b) => series.reduce((n, s) => n + (s.points.find((p) => p.start === b)?.count ?? 0), 0));
  const max = Math.max(1, ...totals);
  const barW = buckets.length ? (width - pad.left) / buckets.length : 0;
  const y = (v: number) => ((height - pad.bottom - pad.top) * v) / max;
  const grand = totals.reduce((a, b) => a + b, 0);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${props.id}-t ${props.id}-d`} preserveAspectRatio="none">
        <title id={`${props.id}-t`}>{props.title}</title>
        <desc id={`${props.id}-d`}>{`${grand} decisions in ${buckets.length} buckets; ${series.map((s) => `${s.name}: ${s.points.reduce((n, p) => n + p.count, 0)}`).join(', ')}`}</desc>
        <line x1={pad.left} y1={height - pad.bottom} x2={width} y2={height - pad.bottom} class="axis" />
        <text x={pad.left - 4} y={pad.top + 10} class="tick" text-anchor="end">
          {max}
        </text>
        <text x={pad.left - 4} y={height - pad.bottom} class="tick" text-anchor="end">
          0
        </text>
        {buckets.map((b, i) => {
          let base = height - pad.bottom;
          return (
            <g>
              {series.map((s) => {
                const v = s.points.find((p) => p.start === b)?.count ?? 0;
                const h = y(v);
                base -= h;
                return v > 0 ? <rect x={pad.left + i * barW + 1} y={base} width={Math.max(1, barW - 2)} height={h} class={`s-${s.name}`} /> : null;
              })}
              {(buckets.length <= 12 || i % Math.ceil(buckets.length / 8) === 0) && (
                <text x={pad.left + i * barW + barW / 2} y={height - 10} class="tick" text-anchor="middle">
                  {props.bucketLabel(b)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        {props.title}:{' '}
        {series.map((s) => (
          <span class={`key s-${s.name}`}>{s.name}</span>
        ))}
      </figcaption>
    </figure>
  );
}

export function HorizontalBars(props: { id: string; title: string; rows: Array<{ label: string; count: number }> }) {
  const max = Math.max(1, ...props.rows.map((r) => r.count));
  const rowH = 24;
  const width = 640;
  const labelW = 220;
  const height = Math.max(rowH, props.rows.length * rowH);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${props.id}-t ${props.id}-d`}>
        <title id={`${props.id}-t`}>{props.title}</title>
        <desc id={`${props.id}-d`}>{props.rows.length === 0 ? 'No data' : props.rows.map((r) => `${r.label}: ${r.count}`).join('; ')}</desc>
        {props.rows.map((r, i) => (
          <g>
            <text x={labelW - 6} y={i * rowH + 16} class="tick" text-anchor="end">
              {r.label.length > 32 ? `${r.label.slice(0, 31)}…` : r.label}
            </text>
            <rect x={labelW} y={i * rowH + 4} width={Math.max(1, ((width - labelW - 50) * r.count) / max)} height={rowH - 8} class="s-bar" />
            <text x={labelW + ((width - labelW - 50) * r.count) / max + 4} y={i * rowH + 16} class="tick">
              {r.count}
            </text>
          </g>
        ))}
      </svg>
      <figcaption>{props.title}</figcaption>
    </figure>
  );
}
