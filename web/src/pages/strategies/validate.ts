// Client-side strategy validation with the rules of shared/scaling's
// Strategy.Validate and the API's StrategyInput, so the form flags the same
// fields the API would (the API stays the authority; its errors are mapped too).
import type { StrategyInput } from '../../api/models';
export interface StrategyFormValues {
  name?: string;
  description?: string;
  thresholdTriggerAction?: 'pool_entry' | 'pool_exit';
  cpuThresholdValue?: number | null;
  cpuThresholdType?: 'usage' | 'allocated' | null;
  cpuTargetValue?: number | null;
  memoryThresholdValue?: number | null;
  memoryThresholdType?: 'usage' | 'allocated' | null;
  memoryTargetValue?: number | null;
  conditionLogic?: 'AND' | 'OR';
  durationMinutes?: number | null;
  cooldownMinutes?: number | null;
  deviceCount?: number | null;
  nodeSelector?: string;
  resourceTypes?: string[];
  entryQueryTemplateId?: number | null;
  exitQueryTemplateId?: number | null;
  selectionPolicy?: 'random' | 'largest-first' | 'smallest-first';
  status?: 'enabled' | 'disabled';
  clusterIds?: number[];
}

/** Error codes are keys under strategy.errors in the i18n files. */
export type StrategyErrors = Partial<Record<keyof StrategyFormValues, string>>;

export const MAX_WINDOW_MINUTES = 366 * 1440;
const poolTypeRE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const isSet = (v: unknown) => v !== undefined && v !== null && v !== '';
const percentOK = (v: number) => !Number.isNaN(v) && v > 0 && v <= 100;

export function validateStrategy(v: StrategyFormValues): StrategyErrors {
  const errs: StrategyErrors = {};
  if (!v.name?.trim()) errs.name = 'required';
  if (!v.thresholdTriggerAction) errs.thresholdTriggerAction = 'required';

  let configured = 0;
  for (const r of ['cpu', 'memory'] as const) {
    const th = v[`${r}ThresholdValue`];
    const ty = v[`${r}ThresholdType`];
    const tg = v[`${r}TargetValue`];
    const thF = `${r}ThresholdValue` as const;
    const tyF = `${r}ThresholdType` as const;
    const tgF = `${r}TargetValue` as const;
    if (!isSet(th)) {
      if (isSet(ty)) errs[tyF] = 'strayType';
      if (isSet(tg)) errs[tgF] = 'strayTarget';
      continue;
    }
    configured++;
    const thOK = percentOK(th as number);
    if (!thOK) errs[thF] = 'percent';
    if (!isSet(ty)) errs[tyF] = 'typeRequired';
    if (!isSet(tg)) {
      errs[tgF] = 'targetRequired';
      continue;
    }
    if (!percentOK(tg as number)) {
      errs[tgF] = 'percent';
      continue;
    }
    if (!thOK) continue;
    if (v.thresholdTriggerAction === 'pool_entry' && !((tg as number) < (th as number))) errs[tgF] = 'entryTarget';
    if (v.thresholdTriggerAction === 'pool_exit' && !((tg as number) > (th as number))) errs[tgF] = 'exitTarget';
  }
  if (configured === 0 && !errs.cpuThresholdValue) errs.cpuThresholdValue = 'oneResource';

  if (!isSet(v.durationMinutes)) errs.durationMinutes = 'required';
  else if ((v.durationMinutes as number) <= 0) errs.durationMinutes = 'positive';
  else if ((v.durationMinutes as number) > MAX_WINDOW_MINUTES) errs.durationMinutes = 'tooLong';
  if (isSet(v.cooldownMinutes)) {
    if ((v.cooldownMinutes as number) < 0) errs.cooldownMinutes = 'nonNegative';
    else if ((v.cooldownMinutes as number) > MAX_WINDOW_MINUTES) errs.cooldownMinutes = 'tooLong';
  }
  if (isSet(v.deviceCount) && (v.deviceCount as number) < 0) errs.deviceCount = 'nonNegative';
  if (v.resourceTypes?.some((t) => !poolTypeRE.test(t.trim()))) errs.resourceTypes = 'poolType';
  return errs;
}

/** The API body (StrategyInput): unset resources are omitted, lists joined. */
export function toStrategyInput(v: StrategyFormValues, version?: number): StrategyInput {
  const body: StrategyInput = {
    name: v.name?.trim() ?? '',
    description: v.description ?? '',
    thresholdTriggerAction: v.thresholdTriggerAction ?? 'pool_entry',
    conditionLogic: v.conditionLogic ?? 'AND',
    durationMinutes: v.durationMinutes ?? 0,
    cooldownMinutes: v.cooldownMinutes ?? 0,
    deviceCount: v.deviceCount ?? 0,
    nodeSelector: v.nodeSelector?.trim() ?? '',
    resourceTypes: (v.resourceTypes ?? []).map((t) => t.trim()).filter(Boolean).join(','),
    selectionPolicy: v.selectionPolicy ?? 'random',
    status: v.status ?? 'enabled',
    clusterIds: v.clusterIds ?? [],
    // null clears a template on update.
    entryQueryTemplateId: v.entryQueryTemplateId ?? null,
    exitQueryTemplateId: v.exitQueryTemplateId ?? null,
  };
  // A resource without a threshold is not evaluated; a stray type or target is
  // still sent so the API reports it on the same field the form does.
  if (isSet(v.cpuThresholdValue)) body.cpuThresholdValue = v.cpuThresholdValue;
  if (isSet(v.cpuThresholdType)) body.cpuThresholdType = v.cpuThresholdType!;
  if (isSet(v.cpuTargetValue)) body.cpuTargetValue = v.cpuTargetValue;
  if (isSet(v.memoryThresholdValue)) body.memoryThresholdValue = v.memoryThresholdValue;
  if (isSet(v.memoryThresholdType)) body.memoryThresholdType = v.memoryThresholdType!;
  if (isSet(v.memoryTargetValue)) body.memoryTargetValue = v.memoryTargetValue;
  if (version) body.version = version;
  return body;
}
