// Builds the trend chart: daily allocation/usage rates of one cluster+pool with
// a strategy's threshold and target lines and markers at order creation days.
import dayjs from 'dayjs';
import type { DailySnapshot, Order, Strategy } from '../../api/models';
import { pct } from '../../lib/format';

export interface TrendLabels {
  cpuAllocated: string;
  cpuUsage: string;
  memAllocated: string;
  memUsage: string;
  threshold: string;
  target: string;
  order: string;
}

const colors = { cpu: '#1668dc', cpuUsage: '#69b1ff', mem: '#d46b08', memUsage: '#ffc069' };

/** Every day from..to inclusive (YYYY-MM-DD): the axis shows days without a snapshot as gaps. */
export function dayRange(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = dayjs(from); !d.isAfter(dayjs(to), 'day') && out.length < 400; d = d.add(1, 'day')) out.push(d.format('YYYY-MM-DD'));
  return out;
}

export function trendOption(snaps: DailySnapshot[], strategy: Strategy | undefined, orders: Order[], l: TrendLabels, from: string, to: string) {
  const days = dayRange(from, to);
  const byDay = new Map(snaps.map((s) => [dayjs(s.day).format('YYYY-MM-DD'), s]));
  const sorted = days.map((d) => byDay.get(d));
  const series = (name: string, color: string, values: (number | null)[], dashed = false) => ({
    name,
    type: 'line',
    // Straight segments: daily values are discrete, a smoothed curve would overshoot between them.
    smooth: false,
    showSymbol: true,
    symbolSize: 5,
    connectNulls: false,
    itemStyle: { color },
    lineStyle: { color, width: 2, type: dashed ? 'dotted' : 'solid' },
    data: values,
  });
  // The server sends the rates; computed here too for rows without them.
  const rate = (p: number | null | undefined, v: number | null | undefined, cap: number) => (p != null ? Math.round(p * 100) / 100 : pct(v, cap));
  const cpuAlloc = series(l.cpuAllocated, colors.cpu, sorted.map((s) => (s ? rate(s.cpuAllocatedPercent, s.cpuAllocated, s.cpuCapacity) : null)));
  const cpuUse = series(l.cpuUsage, colors.cpuUsage, sorted.map((s) => (s ? rate(s.cpuUsagePercent, s.cpuUsage, s.cpuCapacity) : null)), true);
  const memAlloc = series(l.memAllocated, colors.mem, sorted.map((s) => (s ? rate(s.memAllocatedPercent, s.memAllocated, s.memCapacity) : null)));
  const memUse = series(l.memUsage, colors.memUsage, sorted.map((s) => (s ? rate(s.memUsagePercent, s.memUsage, s.memCapacity) : null)), true);

  const lines: object[] = [];
  // CPU labels on the left, memory labels on the right: lines a few percent
  // apart (CPU threshold 80, memory target 75) would print over each other.
  const line = (v: number | null | undefined, label: string, color: string, type: string, position: string) => {
    if (v == null) return;
    lines.push({ yAxis: v, name: label, lineStyle: { color, type, width: 1.5 }, label: { formatter: `${label} ${v}%`, color, position } });
  };
  if (strategy) {
    line(strategy.cpuThresholdValue, `CPU ${l.threshold}`, '#cf1322', 'dashed', 'insideStartTop');
    line(strategy.cpuTargetValue, `CPU ${l.target}`, '#389e0d', 'dashed', 'insideStartTop');
    line(strategy.memoryThresholdValue, `MEM ${l.threshold}`, '#ad2102', 'dotted', 'insideEndTop');
    line(strategy.memoryTargetValue, `MEM ${l.target}`, '#237804', 'dotted', 'insideEndTop');
  }
  const orderLines = orders
    .map((o) => ({ o, day: dayjs(o.createdAt).format('YYYY-MM-DD') }))
    .filter(({ day }) => days.includes(day))
    .map(({ o, day }) => ({
      xAxis: day,
      name: o.orderNumber,
      lineStyle: { color: '#722ed1', type: 'solid', width: 1 },
      // Along the line, inside the plot: a label on top would be cut at the right edge and overlap its neighbours.
      label: { formatter: o.orderNumber, color: '#722ed1', position: 'insideEndTop', fontSize: 10 },
    }));
  (cpuAlloc as Record<string, unknown>).markLine = { symbol: 'none', silent: true, data: [...lines, ...orderLines] };

  return {
    // Browsers driven by tests get the final picture at once.
    animation: typeof navigator === 'undefined' || !navigator.webdriver,
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (v == null ? '—' : `${v}%`) },
    legend: { top: 0 },
    grid: { left: 48, right: 48, top: 64, bottom: 40 },
    xAxis: { type: 'category', data: days, boundaryGap: false },
    // Allocation can pass 100% (overcommit): the axis grows past 100 then.
    yAxis: { type: 'value', min: 0, max: (v: { max: number }) => Math.max(100, Math.ceil(v.max / 10) * 10), axisLabel: { formatter: '{value}%' } },
    series: [cpuAlloc, cpuUse, memAlloc, memUse],
  };
}
