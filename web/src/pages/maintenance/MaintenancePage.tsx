// 设备维护: maintenance requests (as external systems send them) and the
// maintenance / uncordon orders they create, with their allowed actions.
import { App, Button, DatePicker, Form, Input, Tabs } from 'antd';
import { ToolOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../../api/client';
import type { Order } from '../../api/models';
import { CursorTable } from '../../components/CursorTable';
import { FormModal } from '../../components/FormModal';
import { OrderActions } from '../../components/OrderActions';
import { ActionTag, OrderStatusTag } from '../../components/Tags';
import { fmtTime } from '../../lib/format';
import { keys } from '../../lib/queries';
import { useTypedList } from '../../lib/useCursorList';

// POST /maintenance/requests (functions/maintenance); its API has its own
// OpenAPI document, so this body is written by hand after api.go's RequestInput.
interface RequestValues {
  hostname: string;
  externalTicketId: string;
  reason: string;
  window?: [Dayjs, Dayjs];
}

export default function MaintenancePage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [tab, setTab] = useState<'maintenance' | 'uncordon'>('maintenance');
  const [open, setOpen] = useState(false);
  const list = useTypedList(keys.orders, '/elastic-scaling/orders', { actionType: tab, sort: '-createdAt' }, 50, 30_000);
  return (
    <div>
      <div className="page-header">
        <h2>{t('nav.maintenance')}</h2>
        <Button type="primary" icon={<ToolOutlined />} onClick={() => setOpen(true)}>
          {t('maintenance.request')}
        </Button>
      </div>
      <Tabs
        activeKey={tab}
        onChange={(k) => setTab(k as 'maintenance' | 'uncordon')}
        items={[
          { key: 'maintenance', label: t('action.maintenance') },
          { key: 'uncordon', label: t('action.uncordon') },
        ]}
      />
      <CursorTable<Order>
        rowKey="id"
        list={list}
        columns={[
          { title: t('order.orderNumber'), dataIndex: 'orderNumber', render: (v, o) => <Link to={`/orders/${o.id}`}>{v}</Link> },
          { title: t('order.actionType'), dataIndex: 'actionType', render: (v) => <ActionTag action={v} /> },
          { title: t('common.status'), dataIndex: 'status', render: (v) => <OrderStatusTag status={v} /> },
          { title: t('order.externalTicketId'), render: (_, o) => [o.externalSystem, o.externalTicketId].filter(Boolean).join(' ') || '—' },
          { title: t('order.maintenanceWindow'), render: (_, o) => (o.maintenanceStartTime ? `${fmtTime(o.maintenanceStartTime)} – ${fmtTime(o.maintenanceEndTime)}` : '—') },
          { title: t('common.reason'), dataIndex: 'reason', ellipsis: true },
          { title: t('common.createdAt'), dataIndex: 'createdAt', render: fmtTime },
          { title: t('common.actions'), render: (_, o) => <OrderActions order={o} /> },
        ]}
      />
      <FormModal<RequestValues>
        open={open}
        title={t('maintenance.request')}
        onClose={() => setOpen(false)}
        onSubmit={async (v) => {
          // externalSystem comes from the credentials (workbench for people).
          await api.post('/maintenance/requests', {
            hostname: v.hostname.trim(),
            externalTicketId: v.externalTicketId.trim(),
            reason: v.reason.trim(),
            windowStart: v.window?.[0]?.toISOString(),
            windowEnd: v.window?.[1]?.toISOString(),
          });
          message.success(t('maintenance.requested'));
          await qc.invalidateQueries({ queryKey: keys.orders });
        }}
      >
        {() => (
          <>
            <Form.Item name="hostname" label={t('maintenance.device')} rules={[{ required: true, whitespace: true }]}>
              <Input />
            </Form.Item>
            <Form.Item name="externalTicketId" label={t('maintenance.externalTicketId')} rules={[{ required: true, whitespace: true }]}>
              <Input />
            </Form.Item>
            <Form.Item name="window" label={t('order.maintenanceWindow')}>
              <DatePicker.RangePicker showTime style={{ width: '100%' }} />
            </Form.Item>
            <Form.Item name="reason" label={t('common.reason')} rules={[{ required: true, whitespace: true }]}>
              <Input.TextArea rows={2} />
            </Form.Item>
          </>
        )}
      </FormModal>
    </div>
  );
}
