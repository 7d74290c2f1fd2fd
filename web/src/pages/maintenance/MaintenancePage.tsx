// 设备维护: maintenance requests (as external systems send them, or made here)
// from the maintenance API — with the device, its status now and the uncordon
// order each one opened — and the uncordon orders, with their allowed actions.
// Maintenance steps go through POST /maintenance/requests/{id}/<step>, as
// docs/maintenance.md says the workbench does (they emit maintenance.* events);
// uncordon orders are ordinary work orders (PUT …/orders/{id}/status).
import { App, Button, DatePicker, Form, Input, Select, Space, Tabs, Tag, Typography } from 'antd';
import { ToolOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { maintenanceApi, type MaintenanceListQuery, type MaintenanceStep, type MaintenanceView } from '../../api/maintenance';
import type { Order, OrderStatus } from '../../api/models';
import { CursorTable } from '../../components/CursorTable';
import { FormModal } from '../../components/FormModal';
import { RoleGate } from '../../components/Permission';
import { OrderActions } from '../../components/OrderActions';
import { ActionTag, OrderStatusTag } from '../../components/Tags';
import { fmtTime } from '../../lib/format';
import { keys } from '../../lib/queries';
import { useListQuery, useTypedList } from '../../lib/useCursorList';

interface RequestValues {
  hostname: string;
  externalTicketId: string;
  reason: string;
  window?: [Dayjs, Dayjs];
}

type MaintStatus = NonNullable<MaintenanceListQuery['status']>[number];
const maintStatuses: MaintStatus[] = ['pending', 'maintenance_in_progress', 'completed', 'cancelled'];
const deviceColor: Record<string, string> = { idle: 'green', in_pool: 'blue', cordoned: 'orange', maintenance: 'purple', retired: 'default' };

// Under keys.orders so every order action refreshes it too.
export const maintenanceKey = [...keys.orders, 'maintenance-requests'] as const;

function windowText(o: { maintenanceStartTime: string | null; maintenanceEndTime: string | null }) {
  return o.maintenanceStartTime ? `${fmtTime(o.maintenanceStartTime)} – ${fmtTime(o.maintenanceEndTime)}` : '—';
}

function Requests() {
  const { t } = useTranslation();
  const [status, setStatus] = useState<MaintStatus | undefined>();
  const list = useListQuery<MaintenanceView>(
    [...maintenanceKey, status],
    (cursor, signal) => maintenanceApi.list({ status: status ? [status] : undefined, limit: 50, cursor }, signal),
    30_000,
  );
  return (
    <>
      <Space style={{ marginBottom: 12 }}>
        <Select<MaintStatus>
          allowClear
          style={{ width: 180 }}
          placeholder={t('maintenance.allStatuses')}
          value={status}
          onChange={setStatus}
          options={maintStatuses.map((s) => ({ value: s, label: t(`orderStatus.${s}`) }))}
          data-testid="maintenance-status-filter"
        />
      </Space>
      <CursorTable<MaintenanceView>
        rowKey="id"
        list={list}
        data-testid="maintenance-requests"
        scroll={{ x: 1300 }}
        columns={[
          { title: t('order.orderNumber'), dataIndex: 'orderNumber', render: (v, o) => <Link to={`/orders/${o.id}`}>{v}</Link> },
          {
            title: t('maintenance.device'),
            dataIndex: 'hostname',
            render: (v, o) => (
              <Space orientation="vertical" size={0}>
                <span>{v || (o.deviceId ? `#${o.deviceId}` : '—')}</span>
                {o.serial ? (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {t('maintenance.serial')}: {o.serial}
                  </Typography.Text>
                ) : null}
              </Space>
            ),
          },
          {
            title: t('maintenance.deviceStatus'),
            dataIndex: 'deviceStatus',
            render: (v: string) => (v ? <Tag color={deviceColor[v]}>{t(`device.statuses.${v}`, { defaultValue: v })}</Tag> : '—'),
          },
          { title: t('common.status'), dataIndex: 'status', render: (v: OrderStatus) => <OrderStatusTag status={v} /> },
          { title: t('maintenance.ticket'), render: (_, o) => [o.externalSystem, o.externalTicketId].filter(Boolean).join(' / ') || '—' },
          { title: t('order.maintenanceWindow'), render: (_, o) => windowText(o) },
          { title: t('common.reason'), dataIndex: 'reason', ellipsis: true, width: 220 },
          {
            title: t('maintenance.uncordonOrder'),
            render: (_, o) =>
              o.uncordonOrderId ? (
                <Space size={4}>
                  <Link to={`/orders/${o.uncordonOrderId}`}>{o.uncordonOrderNumber}</Link>
                  {o.uncordonOrderStatus ? <OrderStatusTag status={o.uncordonOrderStatus as OrderStatus} /> : null}
                </Space>
              ) : (
                '—'
              ),
          },
          { title: t('common.createdAt'), dataIndex: 'createdAt', render: fmtTime },
          {
            title: t('common.actions'),
            fixed: 'right',
            render: (_, o) => (
              <OrderActions
                order={o}
                submit={(spec, reason) => maintenanceApi.step(o.id, spec.action as MaintenanceStep, { reason, version: o.version })}
              />
            ),
          },
        ]}
      />
    </>
  );
}

function UncordonOrders() {
  const { t } = useTranslation();
  const list = useTypedList(keys.orders, '/elastic-scaling/orders', { actionType: 'uncordon', sort: '-createdAt' }, 50, 30_000);
  return (
    <CursorTable<Order>
      rowKey="id"
      list={list}
      data-testid="uncordon-orders"
      columns={[
        { title: t('order.orderNumber'), dataIndex: 'orderNumber', render: (v, o) => <Link to={`/orders/${o.id}`}>{v}</Link> },
        { title: t('order.actionType'), dataIndex: 'actionType', render: (v) => <ActionTag action={v} /> },
        { title: t('common.status'), dataIndex: 'status', render: (v) => <OrderStatusTag status={v} /> },
        { title: t('maintenance.ticket'), render: (_, o) => [o.externalSystem, o.externalTicketId].filter(Boolean).join(' / ') || '—' },
        { title: t('common.reason'), dataIndex: 'reason', ellipsis: true, width: 260 },
        { title: t('common.createdAt'), dataIndex: 'createdAt', render: fmtTime },
        { title: t('common.actions'), fixed: 'right', render: (_, o) => <OrderActions order={o} /> },
      ]}
    />
  );
}

export default function MaintenancePage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [tab, setTab] = useState<'requests' | 'uncordon'>('requests');
  const [open, setOpen] = useState(false);
  return (
    <div>
      <div className="page-header">
        <h2>{t('nav.maintenance')}</h2>
        <RoleGate>
          <Button type="primary" icon={<ToolOutlined />} onClick={() => setOpen(true)} data-testid="maintenance-request">
            {t('maintenance.request')}
          </Button>
        </RoleGate>
      </div>
      <Tabs
        activeKey={tab}
        onChange={(k) => setTab(k as 'requests' | 'uncordon')}
        items={[
          { key: 'requests', label: t('maintenance.requests') },
          { key: 'uncordon', label: t('maintenance.uncordonOrders') },
        ]}
      />
      {tab === 'requests' ? <Requests /> : <UncordonOrders />}
      <FormModal<RequestValues>
        open={open}
        title={t('maintenance.request')}
        testId="maintenance-form"
        onClose={() => setOpen(false)}
        onSubmit={async (v) => {
          // externalSystem comes from the credentials ("workbench" for people).
          await maintenanceApi.create({
            hostname: v.hostname.trim(),
            externalTicketId: v.externalTicketId.trim(),
            reason: v.reason.trim(),
            windowStart: v.window?.[0]?.toISOString(),
            windowEnd: v.window?.[1]?.toISOString(),
          });
          message.success(t('maintenance.requested'));
          await qc.invalidateQueries({ queryKey: keys.orders });
          await qc.invalidateQueries({ queryKey: keys.workbench });
        }}
      >
        {() => (
          <>
            <Form.Item name="hostname" label={t('maintenance.device')} rules={[{ required: true, whitespace: true }]}>
              <Input data-testid="maintenance-hostname" />
            </Form.Item>
            <Form.Item name="externalTicketId" label={t('maintenance.externalTicketId')} rules={[{ required: true, whitespace: true }]}>
              <Input data-testid="maintenance-ticket" />
            </Form.Item>
            <Form.Item name="window" label={t('order.maintenanceWindow')}>
              <DatePicker.RangePicker showTime style={{ width: '100%' }} />
            </Form.Item>
            <Form.Item name="reason" label={t('common.reason')} rules={[{ required: true, whitespace: true }]}>
              <Input.TextArea rows={2} data-testid="maintenance-reason" />
            </Form.Item>
          </>
        )}
      </FormModal>
    </div>
  );
}
