// An order's node operations (POST …/orders/{id}/operations, docs/clusters.md
// "Executing orders"): a preview computed with server-side dry run (nothing is
// written), and a re-run of an order that is already executing, e.g. once a
// waiting node has joined or after a run was interrupted.
import { Alert, App, Button, Empty, Modal, Space, Spin, Table, Tag, Typography } from 'antd';
import { EyeOutlined, ReloadOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { components } from '../api/schema';
import { typed } from '../api/typed';
import type { OrderStatus } from '../api/models';
import { keys } from '../lib/queries';
import type { ActionableOrder } from './OrderActions';
import { usePermissions } from './Permission';
import { ErrorAlert } from './QueryState';

type Plan = components['schemas']['OrderOperations'];
type DevicePlan = components['schemas']['DeviceOperations'];
type Step = components['schemas']['NodeStep'];

/** Open orders (shared/orderflow IsOpen): the ones a preview takes; a closed one is 409. */
const openStatuses: OrderStatus[] = ['pending', 'processing', 'failed', 'maintenance_in_progress'];

/** The status in which an order's node operations run: a re-run is 409 in any other. */
export function executableStatus(actionType: string): OrderStatus {
  return actionType === 'maintenance' ? 'maintenance_in_progress' : 'processing';
}

export function canPreview(o: Pick<ActionableOrder, 'status'>): boolean {
  return openStatuses.includes(o.status);
}

export function canRerun(o: Pick<ActionableOrder, 'status' | 'actionType'>): boolean {
  return o.status === executableStatus(o.actionType);
}

const deviceColor: Record<string, string | undefined> = { done: 'green', failed: 'red', skipped: 'default', processing: 'blue', pending: 'gold' };
const stepColor: Record<string, string | undefined> = { cordon: 'orange', evict: 'red', untaint: 'cyan', label: 'blue', unlabel: 'purple', uncordon: 'green' };

function Steps({ steps }: { steps: Step[] | null }) {
  const { t } = useTranslation();
  if (!steps?.length) return <Typography.Text type="secondary">{t('orderOps.noSteps')}</Typography.Text>;
  return (
    <Space orientation="vertical" size={2}>
      {steps.map((s, i) => (
        <span key={i} data-testid="ops-step">
          <Tag color={stepColor[s.action]}>{t(`orderOps.steps.${s.action}`, { defaultValue: s.action })}</Tag>
          {s.detail ? <Typography.Text className="mono">{s.detail}</Typography.Text> : null}
        </span>
      ))}
    </Space>
  );
}

/** The answer of a preview: manual mode, the server's notes, and per device its node, steps and error. */
export function OperationsPlan({ plan }: { plan: Plan }) {
  const { t } = useTranslation();
  const notes = plan.notes ?? [];
  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }} data-testid="ops-plan">
      {plan.manual ? <Alert type="warning" showIcon data-testid="ops-manual" title={t('orderOps.manualTitle')} description={t('orderOps.manualHint')} /> : null}
      {plan.dryRun && !plan.manual ? <Alert type="info" showIcon title={t('orderOps.dryRunHint')} /> : null}
      {notes.length ? (
        <Alert
          type="info"
          data-testid="ops-notes"
          title={t('orderOps.notes')}
          description={
            <ul style={{ margin: 0, paddingInlineStart: 20 }}>
              {notes.map((n, i) => (
                <li key={i}>{n}</li>
              ))}
            </ul>
          }
        />
      ) : null}
      <Table<DevicePlan>
        rowKey="deviceId"
        size="small"
        pagination={false}
        data-testid="ops-devices"
        locale={{ emptyText: <Empty description={t('orderOps.noDevices')} /> }}
        dataSource={plan.devices ?? []}
        columns={[
          { title: t('device.hostname'), dataIndex: 'hostname', width: 150 },
          { title: t('orderOps.node'), dataIndex: 'node', width: 150, render: (v) => <span className="mono">{v}</span> },
          { title: t('orderOps.operation'), dataIndex: 'operation', width: 110, render: (v) => t(`orderOps.operations.${v}`, { defaultValue: v }) },
          {
            // A dry run answers the status a run would record; manual mode the device's status now.
            title: plan.manual ? t('order.deviceStatus') : t('orderOps.wouldRecord'),
            dataIndex: 'status',
            width: 120,
            render: (v) => <Tag color={deviceColor[v]}>{t(`order.deviceStates.${v}`, { defaultValue: v })}</Tag>,
          },
          { title: t('orderOps.steps.title'), dataIndex: 'steps', render: (v) => <Steps steps={v} /> },
          { title: t('orderOps.error'), dataIndex: 'error', render: (v, d) => (v ? <Typography.Text type={d.status === 'failed' ? 'danger' : 'secondary'}>{v}</Typography.Text> : '') },
        ]}
      />
    </Space>
  );
}

interface Props {
  order: ActionableOrder;
  size?: 'small' | 'middle';
  /** Called once a re-run was queued (the page refreshes the order and its devices). */
  onQueued?: () => void;
}

/** Preview (open orders) and re-run (an order in its executable status) buttons with their modals. */
export function OrderOperations({ order, size = 'middle', onQueued }: Props) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [previewOpen, setPreviewOpen] = useState(false);
  const [rerunOpen, setRerunOpen] = useState(false);
  const post = (dryRun: boolean) => typed.post('/elastic-scaling/orders/{id}/operations', { dryRun }, { path: { id: order.id } });
  const preview = useMutation({ mutationFn: () => post(true) });
  const rerun = useMutation({
    mutationFn: () => post(false),
    onSuccess: () => {
      message.success(t('orderOps.queued'));
      setRerunOpen(false);
      void qc.invalidateQueries({ queryKey: keys.orders });
      onQueued?.();
    },
  });
  // Both post to …/operations, which needs operator (a preview too: it asks the cluster).
  const perm = usePermissions();
  const showPreview = perm.canOperate && canPreview(order);
  const showRerun = perm.canOperate && canRerun(order);
  if (!showPreview && !showRerun) return null;
  const openPreview = () => {
    setPreviewOpen(true);
    preview.mutate();
  };
  return (
    <>
      <Space size={4} wrap>
        {showPreview ? (
          <Button size={size} icon={<EyeOutlined />} data-testid="order-ops-preview" onClick={openPreview}>
            {t('orderOps.preview')}
          </Button>
        ) : null}
        {showRerun ? (
          <Button
            size={size}
            icon={<ReloadOutlined />}
            data-testid="order-ops-rerun"
            onClick={() => {
              rerun.reset();
              setRerunOpen(true);
            }}
          >
            {t('orderOps.rerun')}
          </Button>
        ) : null}
      </Space>
      <Modal
        open={previewOpen}
        width={1040}
        title={t('orderOps.previewTitle', { number: order.orderNumber })}
        onCancel={() => setPreviewOpen(false)}
        footer={[
          <Button key="refresh" icon={<ReloadOutlined />} disabled={preview.isPending} onClick={() => preview.mutate()} data-testid="ops-preview-again">
            {t('common.refresh')}
          </Button>,
          <Button key="close" type="primary" onClick={() => setPreviewOpen(false)} data-testid="ops-preview-close">
            {t('orderOps.close')}
          </Button>,
        ]}
        destroyOnHidden
      >
        <div data-testid="ops-preview">
          {preview.isPending ? (
            <div style={{ padding: 32, textAlign: 'center' }} data-testid="loading-state">
              <Spin description={t('orderOps.computing')} />
            </div>
          ) : preview.error ? (
            <ErrorAlert error={preview.error} onRetry={() => preview.mutate()} />
          ) : preview.data ? (
            <OperationsPlan plan={preview.data} />
          ) : null}
        </div>
      </Modal>
      <Modal
        open={rerunOpen}
        title={t('orderOps.rerunTitle', { number: order.orderNumber })}
        okText={t('orderOps.rerun')}
        cancelText={t('common.cancel')}
        confirmLoading={rerun.isPending}
        okButtonProps={{ 'data-testid': 'order-ops-rerun-ok' } as never}
        onCancel={() => setRerunOpen(false)}
        onOk={() => rerun.mutate()}
        destroyOnHidden
      >
        <Typography.Paragraph>{t('orderOps.rerunConfirm')}</Typography.Paragraph>
        {rerun.error ? <ErrorAlert error={rerun.error} /> : null}
      </Modal>
    </>
  );
}
