import { describe, expect, it } from 'vitest';
import type { DailySnapshot, Order, Strategy } from '../../api/models';
import { dayRange, trendOption } from './trend';

const labels = { cpuAllocated: 'cpu', cpuUsage: 'cpuU', memAllocated: 'mem', memUsage: 'memU', threshold: 'th', target: 'tg', order: 'order' };
const snap = (day: string, cpuAllocated: number): DailySnapshot =>
  ({ day, clusterId: 1, poolId: 1, cpuCapacity: 1000, cpuAllocated, memCapacity: 100, memAllocated: 50, capturedAt: `${day}T04:00:00Z`, nodeCount: 1 }) as DailySnapshot;

describe('trendOption', () => {
  it('shows every day of the range, gaps for missing snapshots, lines and order markers', () => {
    const strategy = { cpuThresholdValue: 80, cpuTargetValue: 60 } as Strategy;
    const orders = [
      { orderNumber: 'EP-1', createdAt: '2026-11-03T01:00:00Z' },
      { orderNumber: 'EP-old', createdAt: '2026-10-01T01:00:00Z' },
    ] as Order[];
    const o = trendOption([snap('2026-11-01', 900), snap('2026-11-03', 850)], strategy, orders, labels, '2026-11-01', '2026-11-03') as {
      xAxis: { data: string[] };
      series: { data: (number | null)[]; markLine?: { data: { yAxis?: number; xAxis?: string; name: string }[] } }[];
    };
    expect(o.xAxis.data).toEqual(['2026-11-01', '2026-11-02', '2026-11-03']);
    expect(o.series[0].data).toEqual([90, null, 85]);
    const marks = o.series[0].markLine!.data;
    expect(marks.filter((m) => m.yAxis !== undefined).map((m) => m.yAxis)).toEqual([80, 60]);
    expect(marks.filter((m) => m.xAxis).map((m) => m.name)).toEqual(['EP-1']);
  });

  it('dayRange is inclusive', () => {
    expect(dayRange('2026-02-27', '2026-03-01')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
  });
});
