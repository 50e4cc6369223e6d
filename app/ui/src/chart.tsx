// Bar charts (Chart.js, only the parts used are registered) whose bars link to the
// filtered list behind them; the same numbers are listed as links under each chart, for
// keyboards and screen readers.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from "chart.js";
import type { JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { Link, stateTone } from "./components";
import { formatNumber, humanState } from "./format";
import { navigate } from "./router";
import type { Counts } from "./types";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

export interface Bar {
  key: string;
  label: string;
  count: number;
  href: string;
}

export function barsOf(counts: Counts | undefined, href: (key: string) => string): Bar[] {
  return Object.entries(counts ?? {})
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([key, count]) => ({ key, label: humanState(key), count, href: href(key) }));
}

export function BarChart({ id, title, bars }: { id: string; title: string; bars: Bar[] }): JSX.Element {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  const barsRef = useRef(bars);
  barsRef.current = bars;

  useEffect(() => {
    if (!canvas.current) return undefined;
    const instance = new Chart(canvas.current, {
      type: "bar",
      plugins: [{
        // Where each bar is drawn (CSS pixels in the canvas), after every layout: lets a
        // browser test click one.
        id: "barPositions",
        afterRender: (chart: Chart) => {
          const meta = chart.getDatasetMeta(0);
          chart.canvas.dataset.bars = JSON.stringify(barsRef.current.map((b, i) => ({
            key: b.key, x: Math.round(meta.data[i]?.x ?? 0),
            y: Math.round(((meta.data[i]?.y ?? 0) + chart.chartArea.bottom) / 2),
          })));
        },
      }],
      data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderRadius: 3 }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false }, tooltip: { enabled: true } },
        scales: {
          x: { ticks: { color: cssVar("--muted") }, grid: { display: false } },
          y: { beginAtZero: true, ticks: { color: cssVar("--muted"), precision: 0 }, grid: { color: cssVar("--grid") } },
        },
        onHover: (event, elements) => {
          const target = event.native?.target as HTMLElement | undefined;
          if (target) target.style.cursor = elements.length ? "pointer" : "default";
        },
        onClick: (_event, elements) => {
          const hit = elements[0];
          if (hit) navigate(barsRef.current[hit.index].href);
        },
      },
    });
    chart.current = instance;
    return () => {
      instance.destroy();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const instance = chart.current;
    if (!instance || !canvas.current) return;
    instance.data.labels = bars.map((b) => b.label);
    const dataset = instance.data.datasets[0];
    dataset.data = bars.map((b) => b.count);
    dataset.backgroundColor = bars.map((b) => cssVar(`--${stateTone(b.key)}`));
    instance.update();
  }, [bars]);

  const total = bars.reduce((sum, b) => sum + b.count, 0);
  const summary = bars.map((b) => `${b.label}: ${formatNumber(b.count)}`).join(", ");
  return (
    <section class="card chart" aria-labelledby={`${id}-title`} data-chart={id}>
      <h3 id={`${id}-title`}>{title} <span class="muted">({formatNumber(total)})</span></h3>
      <div class="canvas-box">
        <canvas ref={canvas} role="img" aria-label={`${title}: ${summary || "none"}`} />
      </div>
      {bars.length === 0 ? <p class="empty">None.</p> : (
        <ul class="legend">
          {bars.map((b) => (
            <li key={b.key} data-key={b.key}>
              <span class={`dot ${stateTone(b.key)}`} aria-hidden="true" />
              <Link href={b.href}><span class="label">{b.label}</span> <span class="count">{formatNumber(b.count)}</span></Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
