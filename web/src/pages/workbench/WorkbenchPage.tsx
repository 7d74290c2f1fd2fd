// 工作台: summary cards, the trend of one cluster+pool, and the pending orders.
import { Card, Col, Row, Select, Space, Statistic, Table, Typography } from 'antd';
import { ClockCircleOutlined, ExclamationCircleOutlined, InboxOutlined, ToolOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { lazy, Suspense, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { typed } from '../../api/typed';
import type { Order, Strategy } from '../../api/models';
import { OrderActions } from '../../components/OrderActions';
import { usePermissions } from '../../components/Permission';
import { ErrorAlert, QueryState } from '../../components/QueryState';
import { ActionTag, OrderStatusTag } from '../../components/Tags';
import { fmtTime } from '../../lib/format';
import { keys, useNames, useStrategies } from '../../lib/queries';
import { trendOption } from './trend';

const Chart = lazy(() => import('../../components/Chart'));

function SummaryCard({ id, title, value, icon, color, to, loading }: { id: string; title: string; value?: number; icon: React.ReactNode; color: string; to: string; loading: boolean }) {
  const nav = useNavigate();
  return (
    <Card hoverable onClick={() => nav(to)} data-testid={`card-${id}`}>
      <Statistic title={title} value={value ?? '—'} loading={loading} prefix={<span style={{ color, marginRight: 4 }}>{icon}</span>} />
    </Card>
  );
}

export default function WorkbenchPage() {
  const { t } = useTranslation();
  // Viewers get no actions column: every cell of it would be empty.
  const { canOperate: mayAct } = usePermissions();
  const names = useNames();
  const summary = useQuery({
    queryKey: [...keys.workbench, 'summary'],
    queryFn: () => typed.get('/workbench/summary'),
    refetchInterval: 60_000,
  });
  const pending = useQuery({
    queryKey: [...keys.orders, 'pending-workbench'],
    queryFn: () => typed.get('/elastic-scaling/orders', { query: { status: ['pending'], limit: 50, sort: '-createdAt' } }),
    refetchInterval: 60_000,
  });
  const s = summary.data;
  const cards = [
    { key: 'pending', title: t('workbench.pendingOrders'), value: s?.pendingOrders, icon: <ClockCircleOutlined />, color: '#d48806', to: '/orders?status=pending' },
    { key: 'over', title: t('workbench.overThreshold'), value: s?.triggeredPools, icon: <ExclamationCircleOutlined />, color: '#cf1322', to: '/history?result=triggered' },
    { key: 'short', title: t('workbench.shortages'), value: s?.shortagesLast7Days, icon: <InboxOutlined />, color: '#d4380d', to: '/devices?status=idle' },
    { key: 'maint', title: t('workbench.maintenance'), value: s?.maintenanceInProgress, icon: <ToolOutlined />, color: '#722ed1', to: '/maintenance' },
  ];
  const items = pending.data?.items ?? [];
  return (
    <div>
      <div className="page-header">
        <h2>{t('nav.workbench')}</h2>
      </div>
      {summary.error ? (
        <div style={{ marginBottom: 16 }}>
          <ErrorAlert error={summary.error} onRetry={() => summary.refetch()} compact />
        </div>
      ) : null}
      <Row gutter={[16, 16]}>
        {cards.map((c) => (
          <Col key={c.key} xs={24} sm={12} xl={6}>
            <SummaryCard id={c.key} title={c.title} value={c.value} icon={c.icon} color={c.color} to={c.to} loading={summary.isLoading} />
          </Col>
        ))}
      </Row>
      <Trend />
      <Card title={t('workbench.pendingList')} style={{ marginTop: 16 }} data-testid="pending-orders">
        <QueryState loading={pending.isLoading} error={pending.error} empty={!items.length} onRetry={() => pending.refetch()}>
          <Table<Order>
            rowKey="id"
            size="small"
            dataSource={items}
            pagination={false}
            columns={[
              { title: t('order.orderNumber'), dataIndex: 'orderNumber', width: 190, render: (v, o) => <Link to={`/orders/${o.id}`}>{v}</Link> },
              { title: t('order.actionType'), dataIndex: 'actionType', render: (v) => <ActionTag action={v} /> },
              { title: `${t('common.cluster')} / ${t('common.pool')}`, render: (_, o) => `${o.clusterName ?? names.clusterName(o.clusterId)} / ${o.poolName ?? names.poolName(o.poolId)}` },
              { title: t('order.deviceCount'), dataIndex: 'deviceCount' },
              { title: t('order.triggeredValue'), dataIndex: 'strategyTriggeredValue', width: 200 },
              { title: t('common.status'), dataIndex: 'status', render: (v) => <OrderStatusTag status={v} /> },
              { title: t('common.createdAt'), dataIndex: 'createdAt', render: fmtTime },
              ...(mayAct ? [{ title: t('common.actions'), width: 240, render: (_: unknown, o: Order) => <OrderActions order={o} /> }] : []),
            ]}
          />
        </QueryState>
      </Card>
    </div>
  );
}

function Trend() {
  const { t } = useTranslation();
  const names = useNames();
  const strategies = useStrategies();
  const pools = names.pools.data ?? [];
  const [poolId, setPoolId] = useState<number | undefined>();
  const [strategyId, setStrategyId] = useState<number | undefined>();
  const [days, setDays] = useState(30);
  const pool = pools.find((p) => p.id === poolId) ?? pools[0];

  const from = dayjs().subtract(days, 'day').format('YYYY-MM-DD');
  const to = dayjs().format('YYYY-MM-DD');
  const snaps = useQuery({
    queryKey: ['snapshots', 'daily', pool?.id, from, to],
    enabled: !!pool,
    queryFn: async () => {
      const r = await typed.get('/snapshots/daily', { query: { poolId: pool!.id, from, to } });
      return r.items ?? [];
    },
  });
  const orders = useQuery({
    queryKey: [...keys.orders, 'trend', pool?.id],
    enabled: !!pool,
    queryFn: () => typed.get('/elastic-scaling/orders', { query: { clusterId: pool!.clusterId, poolId: pool!.id, limit: 100, sort: '-createdAt' } }),
  });
  // Default lines: the first enabled strategy that covers this pool's type (and cluster, when the list says).
  const applicable = useMemo(
    () =>
      (strategies.data ?? []).filter((s) => {
        if (!pool) return false;
        const types = (s.resourceTypes ?? '').split(',').map((x) => x.trim()).filter(Boolean);
        const typeOK = !types.length || types.includes(pool.poolType);
        const clusterOK = !s.clusterIds || s.clusterIds.includes(pool.clusterId);
        return typeOK && clusterOK;
      }),
    [strategies.data, pool],
  );
  const strategy: Strategy | undefined =
    (strategies.data ?? []).find((s) => s.id === strategyId) ?? applicable.find((s) => s.status === 'enabled') ?? applicable[0];

  const option = useMemo(
    () =>
      trendOption(snaps.data ?? [], strategy, orders.data?.items ?? [], {
        cpuAllocated: t('workbench.cpuAllocated'),
        cpuUsage: t('workbench.cpuUsage'),
        memAllocated: t('workbench.memAllocated'),
        memUsage: t('workbench.memUsage'),
        threshold: t('workbench.threshold'),
        target: t('workbench.target'),
        order: t('workbench.orderMarker'),
      }, from, to),
    [snaps.data, strategy, orders.data, t, from, to],
  );

  return (
    <Card
      title={t('workbench.trend')}
      style={{ marginTop: 16 }}
      data-testid="trend"
      extra={
        <Space wrap>
          <Select
            style={{ width: 260 }}
            placeholder={t('workbench.pickPool')}
            value={pool?.id}
            onChange={setPoolId}
            showSearch={{ optionFilterProp: 'label' }}
            options={pools.map((p) => ({ value: p.id, label: `${names.clusterName(p.clusterId)} / ${p.name} (${p.poolType})` }))}
          />
          <Select
            style={{ width: 200 }}
            allowClear
            placeholder={t('workbench.strategyLines')}
            value={strategy?.id}
            onChange={setStrategyId}
            options={(strategies.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
          />
          <Select
            style={{ width: 100 }}
            value={days}
            onChange={setDays}
            options={[7, 14, 30, 90].map((d) => ({ value: d, label: `${d} ${t('workbench.days')}` }))}
          />
        </Space>
      }
    >
      <QueryState
        loading={names.pools.isLoading || (!!pool && snaps.isLoading)}
        error={names.pools.error ?? snaps.error}
        empty={!pool || !(snaps.data ?? []).length}
        emptyText={!pool ? t('workbench.noPools') : undefined}
        onRetry={() => {
          void names.pools.refetch();
          void snaps.refetch();
        }}
      >
        <Suspense fallback={<div style={{ height: 320 }} />}>
          <Chart option={option} />
        </Suspense>
        {strategy ? (
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('workbench.strategyLines')}: {strategy.name}
          </Typography.Text>
        ) : null}
      </QueryState>
    </Card>
  );
}
