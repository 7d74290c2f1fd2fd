// The buttons of an order, exactly those its status allows (lib/orderFlow),
// each asking for a reason where the audit trail needs one. A viewer gets
// none (every step needs operator).
import { App, Button, Form, Input, Modal, Space, Tag } from 'antd';
import { LockOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { typed } from '../api/typed';
import type { Order } from '../api/models';
import { actionsFor, dangerActions, primaryActions, type ActionSpec } from '../lib/orderFlow';
import { keys } from '../lib/queries';
import { usePermissions } from './Permission';
import { ErrorAlert } from './QueryState';

/** What the buttons need of an order (an orders-API order or a maintenance view). */
export type ActionableOrder = Pick<Order, 'id' | 'orderNumber' | 'version' | 'actionType' | 'status' | 'allowedActions'>;

interface Props {
  order: ActionableOrder;
  size?: 'small' | 'middle';
  onDone?: () => void;
  /** Sends the step another way (the maintenance API); default PUT …/orders/{id}/status. */
  submit?: (spec: ActionSpec, reason: string | undefined) => Promise<unknown>;
  /** Where the steps would be, tell a viewer why there are none (the detail page; tables stay quiet). */
  readOnlyHint?: boolean;
}

export function OrderActions({ order, size = 'small', onDone, submit, readOnlyHint }: Props) {
  const { t } = useTranslation();
  const perm = usePermissions();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [pending, setPending] = useState<ActionSpec | null>(null);
  const [form] = Form.useForm<{ reason: string }>();
  const mut = useMutation({
    mutationFn: (v: { spec: ActionSpec; reason?: string }) =>
      submit ? submit(v.spec, v.reason || undefined) : typed.put(
        '/elastic-scaling/orders/{id}/status',
        { status: v.spec.status, reason: v.reason ?? '', version: order.version },
        { path: { id: order.id } },
      ),
    onSuccess: () => {
      message.success(t('orderAction.done'));
      setPending(null);
      form.resetFields();
      void qc.invalidateQueries({ queryKey: keys.orders });
      void qc.invalidateQueries({ queryKey: keys.workbench });
      void qc.invalidateQueries({ queryKey: keys.devices });
      onDone?.();
    },
  });
  const specs = actionsFor(order);
  if (!specs.length) return null;
  if (!perm.canOperate) {
    return readOnlyHint ? (
      <Tag icon={<LockOutlined />} data-testid="order-actions-readonly">
        {t('perm.readOnly', { role: t('role.operator') })}
      </Tag>
    ) : null;
  }
  return (
    <>
      <Space size={4} wrap>
        {specs.map((s) => (
          <Button
            key={s.action}
            size={size}
            type={primaryActions.includes(s.action) ? 'primary' : 'default'}
            danger={dangerActions.includes(s.action)}
            data-testid={`order-action-${s.action}`}
            onClick={() => {
              mut.reset();
              setPending(s);
            }}
          >
            {t(`orderAction.${s.action}`)}
          </Button>
        ))}
      </Space>
      <Modal
        open={!!pending}
        title={pending ? t('orderAction.confirmTitle', { action: t(`orderAction.${pending.action}`), number: order.orderNumber }) : ''}
        okText={t('common.ok')}
        cancelText={t('common.cancel')}
        confirmLoading={mut.isPending}
        okButtonProps={{ danger: pending ? dangerActions.includes(pending.action) : false, 'data-testid': 'order-action-ok' } as never}
        onCancel={() => setPending(null)}
        onOk={async () => {
          if (!pending) return;
          let v: { reason?: string };
          try {
            v = await form.validateFields();
          } catch {
            return; // the form shows what is missing
          }
          mut.mutate({ spec: pending, reason: v.reason?.trim() });
        }}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" preserve={false}>
          <Form.Item
            name="reason"
            label={t('common.reason')}
            rules={pending?.needsReason ? [{ required: true, whitespace: true, message: t('common.reasonRequired') }] : []}
          >
            <Input.TextArea rows={3} maxLength={1000} />
          </Form.Item>
        </Form>
        {mut.error ? <ErrorAlert error={mut.error} /> : null}
      </Modal>
    </>
  );
}
