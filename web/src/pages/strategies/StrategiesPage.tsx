// 节点入池退池策略: list with filters, enable/disable, delete, run now / dry run.
import { App, Button, Form, Input, Modal, Popconfirm, Select, Space, Switch, Tag } from 'antd';
import { ExperimentOutlined, PlayCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { typed } from '../../api/typed';
import type { Strategy } from '../../api/models';
import { CursorTable } from '../../components/CursorTable';
import { FilterBar } from '../../components/FilterBar';
import { RoleGate, usePermissions } from '../../components/Permission';
import { ErrorAlert } from '../../components/QueryState';
import { ActionTag, EnabledTag } from '../../components/Tags';
import { fmtTime } from '../../lib/format';
import { keys, useNames } from '../../lib/queries';
import { useTypedList } from '../../lib/useCursorList';
import { RunResult } from './RunResult';

interface Filters {
  name?: string;
  status?: 'enabled' | 'disabled';
  action?: 'pool_entry' | 'pool_exit';
  clusterId?: number;
}

function resourceSummary(s: Strategy, t: (k: string) => string) {
  const parts: string[] = [];
  if (s.cpuThresholdValue != null)
    parts.push(`CPU ${t(`strategy.${s.cpuThresholdType}`)} ${s.thresholdTriggerAction === 'pool_exit' ? '<' : '>'} ${s.cpuThresholdValue}% → ${s.cpuTargetValue}%`);
  if (s.memoryThresholdValue != null)
    parts.push(`MEM ${t(`strategy.${s.memoryThresholdType}`)} ${s.thresholdTriggerAction === 'pool_exit' ? '<' : '>'} ${s.memoryThresholdValue}% → ${s.memoryTargetValue}%`);
  return parts;
}

export default function StrategiesPage() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const names = useNames();
  const perm = usePermissions();
  const [filters, setFilters] = useState<Filters>({});
  const list = useTypedList(keys.strategies, '/elastic-scaling/strategies', { ...filters });
  const [run, setRun] = useState<{ strategy: Strategy; dryRun: boolean } | null>(null);

  const setStatus = useMutation({
    mutationFn: (s: Strategy) =>
      typed.put(
        '/elastic-scaling/strategies/{id}/status',
        { status: s.status === 'enabled' ? 'disabled' : 'enabled', version: s.version },
        { path: { id: s.id } },
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.strategies }),
    onError: (e) => message.error((e as Error).message),
  });
  const del = useMutation({
    mutationFn: (s: Strategy) => typed.del('/elastic-scaling/strategies/{id}', { path: { id: s.id } }),
    onSuccess: () => {
      message.success(t('common.deleted'));
      void qc.invalidateQueries({ queryKey: keys.strategies });
    },
    onError: (e) => message.error((e as Error).message),
  });
  const evaluate = useMutation({
    mutationFn: (v: { strategy: Strategy; dryRun: boolean }) => typed.post('/evaluations', { strategyId: v.strategy.id, dryRun: v.dryRun }),
    onSuccess: (_, v) => {
      if (!v.dryRun) {
        void qc.invalidateQueries({ queryKey: keys.orders });
        void qc.invalidateQueries({ queryKey: keys.workbench });
        void qc.invalidateQueries({ queryKey: keys.history });
      }
    },
  });
  const startRun = (strategy: Strategy, dryRun: boolean) => {
    setRun({ strategy, dryRun });
    evaluate.reset();
    evaluate.mutate({ strategy, dryRun });
  };

  return (
    <div>
      <div className="page-header">
        <h2>{t('nav.strategies')}</h2>
        <RoleGate>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => nav('/strategies/new')} data-testid="strategy-create">
            {t('strategy.create')}
          </Button>
        </RoleGate>
      </div>
      <FilterBar<Filters> onChange={setFilters}>
        <Form.Item name="name">
          <Input placeholder={t('strategy.filterName')} allowClear />
        </Form.Item>
        <Form.Item name="action">
          <Select
            allowClear
            placeholder={t('strategy.thresholdTriggerAction')}
            style={{ width: 140 }}
            options={['pool_entry', 'pool_exit'].map((a) => ({ value: a, label: t(`action.${a}`) }))}
          />
        </Form.Item>
        <Form.Item name="status">
          <Select
            allowClear
            placeholder={t('common.status')}
            style={{ width: 120 }}
            options={['enabled', 'disabled'].map((a) => ({ value: a, label: t(`common.${a}`) }))}
          />
        </Form.Item>
        <Form.Item name="clusterId">
          <Select
            allowClear
            placeholder={t('common.cluster')}
            style={{ width: 180 }}
            options={(names.clusters.data ?? []).map((c) => ({ value: c.id, label: c.displayName || c.name }))}
          />
        </Form.Item>
      </FilterBar>
      <CursorTable<Strategy>
        rowKey="id"
        list={list}
        columns={[
          { title: t('common.name'), dataIndex: 'name', render: (v, s) => <Link to={`/strategies/${s.id}`}>{v}</Link> },
          { title: t('strategy.thresholdTriggerAction'), dataIndex: 'thresholdTriggerAction', render: (v) => <ActionTag action={v} /> },
          {
            title: t('strategy.thresholds'),
            render: (_, s) => (
              <Space orientation="vertical" size={0}>
                {resourceSummary(s, t).map((p) => (
                  <span key={p} className="mono">
                    {p}
                  </span>
                ))}
                {s.cpuThresholdValue != null && s.memoryThresholdValue != null ? <Tag>{s.conditionLogic}</Tag> : null}
              </Space>
            ),
          },
          { title: t('strategy.durationMinutes'), dataIndex: 'durationMinutes' },
          { title: t('strategy.resourceTypes'), dataIndex: 'resourceTypes', render: (v: string) => (v ? v.split(',').map((x) => <Tag key={x}>{x}</Tag>) : t('common.all')) },
          {
            title: t('strategy.clusters'),
            dataIndex: 'clusterIds',
            render: (ids: number[] | null) => (ids?.length ? ids.map((id) => <Tag key={id}>{names.clusterName(id)}</Tag>) : '—'),
          },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (v, s) => (
              <Space>
                <RoleGate>
                  <Switch size="small" checked={v === 'enabled'} loading={setStatus.isPending && setStatus.variables?.id === s.id} onChange={() => setStatus.mutate(s)} />
                </RoleGate>
                <EnabledTag status={v} />
              </Space>
            ),
          },
          { title: t('common.updatedAt'), dataIndex: 'updatedAt', render: fmtTime },
          {
            title: t('common.actions'),
            fixed: 'right',
            render: (_, s) => (
              <Space size={4} wrap>
                <RoleGate>
                  <Button size="small" icon={<PlayCircleOutlined />} onClick={() => startRun(s, false)} data-testid={`run-${s.id}`}>
                    {t('strategy.runNow')}
                  </Button>
                </RoleGate>
                <RoleGate>
                  <Button size="small" icon={<ExperimentOutlined />} onClick={() => startRun(s, true)} data-testid={`dryrun-${s.id}`}>
                    {t('strategy.dryRun')}
                  </Button>
                </RoleGate>
                <Button size="small" onClick={() => nav(`/strategies/${s.id}`)}>
                  {perm.canOperate ? t('common.edit') : t('common.detail')}
                </Button>
                <RoleGate>
                <Popconfirm
                  title={t('common.confirmDelete')}
                  onConfirm={() => del.mutate(s)}
                  okText={t('common.ok')}
                  cancelText={t('common.cancel')}
                  okButtonProps={{ danger: true, 'data-testid': `strategy-delete-ok-${s.id}` } as never}
                >
                  <Button size="small" danger data-testid={`strategy-delete-${s.id}`}>
                    {t('common.delete')}
                  </Button>
                </Popconfirm>
                </RoleGate>
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={!!run}
        width={900}
        title={run ? `${run.dryRun ? t('strategy.dryRun') : t('strategy.runNow')} · ${run.strategy.name}` : ''}
        onCancel={() => setRun(null)}
        footer={<Button onClick={() => setRun(null)}>{t('common.ok')}</Button>}
        destroyOnHidden
      >
        {evaluate.isPending ? <div style={{ padding: 24, textAlign: 'center' }}>{t('common.loading')}</div> : null}
        {evaluate.error ? <ErrorAlert error={evaluate.error} /> : null}
        {evaluate.data && run ? <RunResult result={evaluate.data} /> : null}
      </Modal>
    </div>
  );
}
