import { describe, expect, it } from 'vitest';
import { toStrategyInput, validateStrategy, type StrategyFormValues } from './validate';

const base: StrategyFormValues = {
  name: 's',
  thresholdTriggerAction: 'pool_entry',
  cpuThresholdValue: 80,
  cpuThresholdType: 'allocated',
  cpuTargetValue: 60,
  durationMinutes: 4320,
};

describe('validateStrategy (rules of shared/scaling Strategy.Validate)', () => {
  const cases: { name: string; v: StrategyFormValues; want: Record<string, string> }[] = [
    { name: 'valid entry', v: base, want: {} },
    { name: 'entry target above threshold', v: { ...base, cpuTargetValue: 85 }, want: { cpuTargetValue: 'entryTarget' } },
    {
      name: 'exit target below threshold',
      v: { ...base, thresholdTriggerAction: 'pool_exit', cpuThresholdValue: 20, cpuTargetValue: 10 },
      want: { cpuTargetValue: 'exitTarget' },
    },
    { name: 'no resource', v: { ...base, cpuThresholdValue: null, cpuThresholdType: null, cpuTargetValue: null }, want: { cpuThresholdValue: 'oneResource' } },
    { name: 'stray memory target', v: { ...base, memoryTargetValue: 50 }, want: { memoryTargetValue: 'strayTarget' } },
    { name: 'threshold over 100', v: { ...base, cpuThresholdValue: 120 }, want: { cpuThresholdValue: 'percent' } },
    { name: 'missing type', v: { ...base, cpuThresholdType: null }, want: { cpuThresholdType: 'typeRequired' } },
    { name: 'duration zero', v: { ...base, durationMinutes: 0 }, want: { durationMinutes: 'positive' } },
    { name: 'duration too long', v: { ...base, durationMinutes: 366 * 1440 + 1 }, want: { durationMinutes: 'tooLong' } },
    { name: 'bad pool type', v: { ...base, resourceTypes: ['GPU'] }, want: { resourceTypes: 'poolType' } },
    { name: 'no name', v: { ...base, name: ' ' }, want: { name: 'required' } },
  ];
  for (const c of cases)
    it(c.name, () => {
      expect(validateStrategy(c.v)).toEqual(c.want);
    });
});

describe('toStrategyInput', () => {
  it('omits unconfigured resources and joins resource types', () => {
    const got = toStrategyInput({ ...base, resourceTypes: ['gpu', ' general '], clusterIds: [2, 1] }, 3);
    expect(got).toMatchObject({ cpuThresholdValue: 80, resourceTypes: 'gpu,general', clusterIds: [2, 1], version: 3 });
    expect('memoryThresholdValue' in got).toBe(false);
    expect('memoryThresholdType' in got).toBe(false);
  });
});
