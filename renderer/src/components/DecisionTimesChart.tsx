import { useEffect, useRef } from 'react';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import type { RuleDecisionStats } from '../../../protocol/report.js';
import { formatSeconds, niceStep } from '../lib/report.js';

// Only the pieces a horizontal bar chart needs, so the bundle carries no other chart types.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

/** The palette from the stylesheet, so the chart follows the light or dark theme. */
function themeColours() {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return { median: read('--accent', '#1f7a4d'), p95: read('--warn', '#b54708'), text: read('--muted', '#5d6762'), grid: read('--border', '#dde1dc') };
}

/**
 * Median and 95th percentile time to decision, one pair of bars per rule. The numbers are in the
 * table beside it; the canvas is a picture of them, labelled as such for screen readers.
 */
export function DecisionTimesChart({ rules }: { rules: RuleDecisionStats[] }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart<'bar'> | null>(null);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const colours = themeColours();
    const chart = new Chart(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        indexAxis: 'y',
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { beginAtZero: true, ticks: { color: colours.text, callback: (value) => formatSeconds(Number(value)) }, grid: { color: colours.grid } },
          y: { ticks: { color: colours.text }, grid: { display: false } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { color: colours.text, boxWidth: 12 } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${formatSeconds(item.parsed.x)}` } },
        },
      },
    });
    chartRef.current = chart;
    return () => {
      chart.destroy();
      chartRef.current = null;
    };
  }, []);

  useEffect(() => {
    const chart = chartRef.current;
    if (!chart) return;
    const colours = themeColours();
    chart.data.labels = rules.map((rule) => rule.rule);
    chart.data.datasets = [
      { label: 'Median', data: rules.map((rule) => rule.medianSeconds ?? 0), backgroundColor: colours.median, borderRadius: 3 },
      { label: '95th percentile', data: rules.map((rule) => rule.p95Seconds ?? 0), backgroundColor: colours.p95, borderRadius: 3 },
    ];
    const x = chart.options.scales?.x;
    if (x?.ticks) (x.ticks as { stepSize?: number }).stepSize = niceStep(Math.max(1, ...rules.map((rule) => rule.p95Seconds ?? 0)));
    chart.update();
  }, [rules]);

  const summary = rules.map((rule) => `${rule.rule}: median ${formatSeconds(rule.medianSeconds)}, 95th percentile ${formatSeconds(rule.p95Seconds)}`).join('; ');
  return (
    <div className="report-chart" style={{ height: `${Math.max(140, rules.length * 48 + 70)}px` }}>
      <canvas ref={canvasRef} role="img" aria-label={`Time to decision per rule. ${summary}`} />
    </div>
  );
}
