// 订单: status tabs, filters, the list with each order's allowed actions.
import { DatePicker, Form, Input, Select, Tabs } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import type { ActionType, Order, OrderStatus } from '../../api/models';
import { CursorTable } from '../../components/CursorTable';
import { FilterBar } from '../../components/FilterBar';
import { OrderActions } from '../../components/OrderActions';
import { ActionTag, OrderStatusTag } from '../../components/Tags';
import { fmtTime } from '../../lib/format';
import { orderStatuses } from '../../lib/orderFlow';
import { keys, useNames } from '../../lib/queries';
import { useTypedList } from '../../lib/useCursorList';

interface Filters {
  q?: string;
  actionType?: ActionType;
  clusterId?: number;
  poolId?: number;
  range?: [Dayjs, Dayjs];
}

export default function OrdersPage() {
  const { t } = useTranslation();
  const names = useNames();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const [filters, setFilters] = useState<Filters>({});
  const { range, ...rest } = filters;
  const list = useTypedList(
    keys.orders,
    '/elastic-scaling/orders',
    {
      ...rest,
      status: status ? [status as OrderStatus] : undefined,
      from: range?.[0]?.startOf('day').toISOString(),
      to: range?.[1]?.endOf('day').toISOString(),
      sort: '-createdAt',
    },
    50,
    30_000,
  );
  return (
    <div>
      <div className="page-header">
        <h2>{t('nav.orders')}</h2>
      </div>
      <Tabs
        activeKey={status || 'all'}
        onChange={(k) => setParams(k === 'all' ? {} : { status: k })}
        items={[{ key: 'all', label: t('common.all') }, ...orderStatuses.map((s) => ({ key: s, label: t(`orderStatus.${s}`) }))]}
      />
      <FilterBar<Filters> onChange={setFilters}>
        <Form.Item name="q">
          <Input placeholder={t('order.filterNumber')} allowClear style={{ width: 200 }} />
        </Form.Item>
        <Form.Item name="actionType">
          <Select
            allowClear
            placeholder={t('order.actionType')}
            style={{ width: 140 }}
            options={['pool_entry', 'pool_exit', 'maintenance', 'uncordon'].map((a) => ({ value: a, label: t(`action.${a}`) }))}
          />
        </Form.Item>
        <Form.Item name="clusterId">
          <Select
            allowClear
            placeholder={t('common.cluster')}
            style={{ width: 160 }}
            options={(names.clusters.data ?? []).map((c) => ({ value: c.id, label: c.displayName || c.name }))}
          />
        </Form.Item>
        <Form.Item name="poolId">
          <Select
            allowClear
            placeholder={t('common.pool')}
            style={{ width: 180 }}
            options={(names.pools.data ?? []).map((p) => ({ value: p.id, label: `${names.clusterName(p.clusterId)} / ${p.name}` }))}
          />
        </Form.Item>
        <Form.Item name="range">
          <DatePicker.RangePicker />
        </Form.Item>
      </FilterBar>
      <CursorTable<Order>
        rowKey="id"
        list={list}
        columns={[
          { title: t('order.orderNumber'), dataIndex: 'orderNumber', render: (v, o) => <Link to={`/orders/${o.id}`}>{v}</Link> },
          { title: t('order.actionType'), dataIndex: 'actionType', render: (v) => <ActionTag action={v} /> },
          { title: t('common.status'), dataIndex: 'status', render: (v) => <OrderStatusTag status={v} /> },
          {
            title: `${t('common.cluster')} / ${t('common.pool')}`,
            render: (_, o) => `${o.clusterName ?? names.clusterName(o.clusterId)} / ${o.poolName ?? names.poolName(o.poolId)}`,
          },
          { title: t('order.deviceCount'), dataIndex: 'deviceCount' },
          { title: t('common.strategy'), dataIndex: 'strategyName', render: (v, o) => (o.strategyId ? <Link to={`/strategies/${o.strategyId}`}>{v ?? `#${o.strategyId}`}</Link> : '—') },
          { title: t('order.executor'), dataIndex: 'executor', render: (v) => v || '—' },
          { title: t('common.createdAt'), dataIndex: 'createdAt', render: fmtTime },
          { title: t('common.actions'), fixed: 'right', render: (_, o) => <OrderActions order={o} /> },
        ]}
      />
    </div>
  );
}
