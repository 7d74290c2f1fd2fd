// An order: its fields, the devices it holds, the evaluation that created it
// and its audit trail, with exactly the actions its status allows.
import { Button, Card, Descriptions, Space, Table, Tag, Typography } from 'antd';
import { ArrowLeftOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { typed } from '../../api/typed';
import type { AuditEntry, OrderDevice } from '../../api/models';
import { OrderActions } from '../../components/OrderActions';
import { OrderOperations } from '../../components/OrderOperations';
import { QueryState } from '../../components/QueryState';
import { ActionTag, OrderStatusTag, ResultTag } from '../../components/Tags';
import { fmtBytes, fmtTime } from '../../lib/format';
import { keys, useNames } from '../../lib/queries';

function diff(before: unknown, after: unknown): string {
  if (!before || !after || typeof before !== 'object' || typeof after !== 'object') return '';
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const out: string[] = [];
  for (const k of Object.keys(a)) {
    if (['updatedAt', 'version', 'allowedActions'].includes(k)) continue;
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) out.push(`${k}: ${JSON.stringify(b[k] ?? null)} → ${JSON.stringify(a[k])}`);
  }
  return out.join('\n');
}

export default function OrderDetailPage() {
  const { id } = useParams();
  const { t } = useTranslation();
  const nav = useNavigate();
  const names = useNames();
  const oid = Number(id);
  // After a re-run is queued the devices are polled for a while: nodeops
  // writes each device's row as soon as it finishes.
  const [followUntil, setFollowUntil] = useState(0);
  const order = useQuery({ queryKey: [...keys.orders, 'one', id], queryFn: () => typed.get('/elastic-scaling/orders/{id}', { path: { id: oid } }) });
  const devices = useQuery({
    queryKey: [...keys.orders, 'devices', id],
    queryFn: () => typed.get('/elastic-scaling/orders/{id}/devices', { path: { id: oid } }),
    refetchInterval: () => (Date.now() < followUntil ? 3000 : false),
  });
  const audit = useQuery({
    queryKey: [...keys.orders, 'audit', id],
    queryFn: () => typed.get('/elastic-scaling/orders/{id}/audit', { path: { id: oid }, query: { limit: 200 } }),
  });
  const o = order.data;
  const evaluation = useQuery({
    queryKey: [...keys.history, 'one', o?.evaluationId],
    enabled: !!o?.evaluationId,
    queryFn: () => typed.get('/elastic-scaling/history/{id}', { path: { id: o!.evaluationId! } }),
  });

  return (
    <div>
      <div className="page-header">
        <Space>
          <Button icon={<ArrowLeftOutlined />} onClick={() => nav(-1)}>
            {t('common.back')}
          </Button>
          <h2>
            {t('order.title', { number: o?.orderNumber ?? '' })}
          </h2>
          {o ? <OrderStatusTag status={o.status} /> : null}
        </Space>
        {o ? (
          <Space size={8} wrap>
            <OrderOperations order={o} onQueued={() => setFollowUntil(Date.now() + 60_000)} />
            <OrderActions order={o} size="middle" readOnlyHint onDone={() => void order.refetch()} />
          </Space>
        ) : null}
      </div>
      <QueryState loading={order.isLoading} error={order.error} onRetry={() => order.refetch()}>
        {o ? (
          <Card>
            <Descriptions
              column={{ xs: 1, md: 2, xl: 3 }}
              size="small"
              items={[
                { key: 'n', label: t('order.orderNumber'), children: <Typography.Text copyable>{o.orderNumber}</Typography.Text> },
                { key: 'a', label: t('order.actionType'), children: <ActionTag action={o.actionType} /> },
                { key: 's', label: t('common.status'), children: <OrderStatusTag status={o.status} /> },
                { key: 'c', label: t('common.cluster'), children: o.clusterName ?? names.clusterName(o.clusterId) },
                { key: 'p', label: t('common.pool'), children: o.poolName ?? names.poolName(o.poolId) },
                {
                  key: 'st',
                  label: t('common.strategy'),
                  children: o.strategyId ? <Link to={`/strategies/${o.strategyId}`}>{o.strategyName ?? `#${o.strategyId}`}</Link> : '—',
                },
                { key: 'dc', label: t('order.deviceCount'), children: o.deviceCount },
                { key: 'tv', label: t('order.triggeredValue'), children: o.strategyTriggeredValue || '—' },
                { key: 'th', label: t('order.thresholdValue'), children: o.strategyThresholdValue || '—' },
                { key: 'r', label: t('common.reason'), children: o.reason || '—' },
                { key: 'cb', label: t('order.createdBy'), children: o.createdBy || '—' },
                { key: 'ca', label: t('common.createdAt'), children: fmtTime(o.createdAt) },
                { key: 'ex', label: t('order.executor'), children: o.executor || '—' },
                { key: 'et', label: t('order.executionTime'), children: fmtTime(o.executionTime) },
                { key: 'ct', label: t('order.completionTime'), children: fmtTime(o.completionTime) },
                ...(o.failureReason ? [{ key: 'fr', label: t('order.failureReason'), children: <Typography.Text type="danger">{o.failureReason}</Typography.Text> }] : []),
                ...(o.externalTicketId ? [{ key: 'et2', label: t('order.externalTicketId'), children: `${o.externalSystem ?? ''} ${o.externalTicketId}` }] : []),
                ...(o.maintenanceStartTime || o.maintenanceEndTime
                  ? [{ key: 'mw', label: t('order.maintenanceWindow'), children: `${fmtTime(o.maintenanceStartTime)} – ${fmtTime(o.maintenanceEndTime)}` }]
                  : []),
              ]}
            />
          </Card>
        ) : null}
      </QueryState>

      <Card title={t('order.devices')} style={{ marginTop: 16 }} data-testid="order-devices">
        <QueryState loading={devices.isLoading} error={devices.error} empty={!devices.data?.items?.length} onRetry={() => devices.refetch()}>
          <Table<OrderDevice>
            rowKey="deviceId"
            size="small"
            pagination={false}
            dataSource={devices.data?.items ?? []}
            columns={[
              { title: t('device.hostname'), dataIndex: 'hostname' },
              { title: t('device.ip'), dataIndex: 'ip' },
              { title: t('device.idc'), render: (_, d) => [d.idc, d.zone].filter(Boolean).join(' / ') },
              { title: t('device.cpuCores'), dataIndex: 'cpuCores' },
              { title: t('device.memory'), dataIndex: 'memoryBytes', render: fmtBytes },
              { title: t('order.role'), dataIndex: 'role', render: (v) => <Tag>{t(`order.roles.${v}`, { defaultValue: v })}</Tag> },
              {
                title: t('order.deviceStatus'),
                dataIndex: 'status',
                render: (v, d) => <Tag color={d.error || v === 'failed' ? 'red' : v === 'done' ? 'green' : undefined}>{t(`order.deviceStates.${v}`, { defaultValue: v })}</Tag>,
              },
              { title: t('order.deviceNow'), dataIndex: 'deviceStatus', render: (v) => (v ? t(`device.statuses.${v}`, { defaultValue: v }) : '—') },
              {
                title: t('common.reason'),
                dataIndex: 'error',
                render: (v, d) => (v ? <Typography.Text type={d.status === 'failed' ? 'danger' : undefined}>{v}</Typography.Text> : ''),
              },
            ]}
          />
        </QueryState>
      </Card>

      <Card title={t('order.executionHistory')} style={{ marginTop: 16 }}>
        {!o?.evaluationId ? (
          <Typography.Text type="secondary">{o ? t('order.noEvaluation') : ''}</Typography.Text>
        ) : (
          <QueryState loading={evaluation.isLoading} error={evaluation.error} onRetry={() => evaluation.refetch()}>
            {evaluation.data ? (
              <Descriptions
                size="small"
                column={{ xs: 1, md: 2 }}
                items={[
                  { key: 'at', label: t('history.evaluatedAt'), children: fmtTime(evaluation.data.evaluatedAt) },
                  { key: 'r', label: t('history.result'), children: <ResultTag result={evaluation.data.result} /> },
                  { key: 's', label: t('history.streak'), children: `${evaluation.data.streakDays ?? '?'} / ${evaluation.data.requiredDays ?? '?'}` },
                  { key: 'st', label: t('common.strategy'), children: evaluation.data.strategyName ?? `#${evaluation.data.strategyId}` },
                  { key: 'why', label: t('history.reason'), span: 2, children: evaluation.data.reason },
                ]}
              />
            ) : null}
          </QueryState>
        )}
      </Card>

      <Card title={t('order.audit')} style={{ marginTop: 16 }} data-testid="order-audit">
        <QueryState loading={audit.isLoading} error={audit.error} empty={!audit.data?.items?.length} onRetry={() => audit.refetch()}>
          <Table<AuditEntry>
            rowKey="id"
            size="small"
            pagination={false}
            dataSource={audit.data?.items ?? []}
            columns={[
              { title: t('order.auditAt'), dataIndex: 'at', render: fmtTime, width: 160 },
              { title: t('order.auditActor'), dataIndex: 'actor', width: 120 },
              { title: t('order.auditAction'), dataIndex: 'action', width: 160, render: (v) => <Tag>{v}</Tag> },
              { title: t('order.auditChange'), render: (_, a) => <pre className="mono" style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{diff(a.before, a.after)}</pre> },
            ]}
          />
        </QueryState>
      </Card>
    </div>
  );
}
