import { App, Card } from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router-dom';
import { typed } from '../../api/typed';
import type { Strategy } from '../../api/models';
import { QueryState } from '../../components/QueryState';
import { keys, useClusters, usePools, useTemplates } from '../../lib/queries';
import { StrategyForm } from './StrategyForm';
import { toStrategyInput, type StrategyFormValues } from './validate';

export function toFormValues(s?: Strategy): StrategyFormValues {
  if (!s)
    return {
      thresholdTriggerAction: 'pool_entry',
      cpuThresholdType: 'allocated',
      conditionLogic: 'AND',
      durationMinutes: 4320,
      cooldownMinutes: 1440,
      deviceCount: 0,
      selectionPolicy: 'random',
      status: 'enabled',
      resourceTypes: [],
      clusterIds: [],
    };
  return {
    name: s.name,
    description: s.description,
    thresholdTriggerAction: s.thresholdTriggerAction,
    cpuThresholdValue: s.cpuThresholdValue ?? null,
    cpuThresholdType: (s.cpuThresholdType || null) as StrategyFormValues['cpuThresholdType'],
    cpuTargetValue: s.cpuTargetValue ?? null,
    memoryThresholdValue: s.memoryThresholdValue ?? null,
    memoryThresholdType: (s.memoryThresholdType || null) as StrategyFormValues['memoryThresholdType'],
    memoryTargetValue: s.memoryTargetValue ?? null,
    conditionLogic: s.conditionLogic,
    durationMinutes: s.durationMinutes,
    cooldownMinutes: s.cooldownMinutes,
    deviceCount: s.deviceCount,
    nodeSelector: s.nodeSelector,
    resourceTypes: (s.resourceTypes ?? '').split(',').filter(Boolean),
    entryQueryTemplateId: s.entryQueryTemplateId ?? null,
    exitQueryTemplateId: s.exitQueryTemplateId ?? null,
    selectionPolicy: s.selectionPolicy,
    status: s.status,
    clusterIds: s.clusterIds ?? [],
  };
}

export default function StrategyEditPage() {
  const { id } = useParams();
  const isNew = !id || id === 'new';
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const strategy = useQuery({
    queryKey: [...keys.strategies, 'one', id],
    enabled: !isNew,
    queryFn: () => typed.get('/elastic-scaling/strategies/{id}', { path: { id: Number(id) } }),
  });
  const templates = useTemplates();
  const clusters = useClusters();
  const pools = usePools();
  const poolTypes = [...new Set((pools.data ?? []).map((p) => p.poolType))].sort();

  const save = async (v: StrategyFormValues) => {
    if (isNew) await typed.post('/elastic-scaling/strategies', toStrategyInput(v));
    else await typed.put('/elastic-scaling/strategies/{id}', toStrategyInput(v, strategy.data?.version), { path: { id: Number(id) } });
    message.success(t('common.saved'));
    await qc.invalidateQueries({ queryKey: keys.strategies });
    nav('/strategies');
  };

  return (
    <Card title={isNew ? t('strategy.createTitle') : t('strategy.editTitle')}>
      <QueryState loading={!isNew && strategy.isLoading} error={strategy.error} onRetry={() => strategy.refetch()}>
        <StrategyForm
          key={strategy.data?.version ?? 'new'}
          initial={toFormValues(strategy.data)}
          templates={(templates.data ?? []).map((x) => ({ value: x.id, label: x.name }))}
          clusters={(clusters.data ?? []).map((c) => ({ value: c.id, label: c.displayName || c.name }))}
          poolTypes={poolTypes}
          onSubmit={save}
          onCancel={() => nav('/strategies')}
        />
      </QueryState>
    </Card>
  );
}
