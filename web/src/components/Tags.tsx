import { Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import type { ActionType, OrderStatus } from '../api/models';
import { statusColor } from '../lib/orderFlow';

export function OrderStatusTag({ status }: { status: OrderStatus }) {
  const { t } = useTranslation();
  return <Tag color={statusColor[status] ?? 'default'}>{t(`orderStatus.${status}`, { defaultValue: status })}</Tag>;
}

const actionColor: Record<string, string> = { pool_entry: 'cyan', pool_exit: 'orange', maintenance: 'purple', uncordon: 'geekblue' };

export function ActionTag({ action }: { action: ActionType | string }) {
  const { t } = useTranslation();
  return <Tag color={actionColor[action] ?? 'default'}>{t(`action.${action}`, { defaultValue: action })}</Tag>;
}

export function EnabledTag({ status }: { status: string }) {
  const { t } = useTranslation();
  return <Tag color={status === 'enabled' ? 'green' : 'default'}>{t(`common.${status}`, { defaultValue: status })}</Tag>;
}

const resultColor: Record<string, string> = { triggered: 'red', not_met: 'green', cooldown: 'blue', no_data: 'default', error: 'magenta' };

export function ResultTag({ result }: { result: string }) {
  const { t } = useTranslation();
  return <Tag color={resultColor[result] ?? 'default'}>{t(`history.results.${result}`, { defaultValue: result })}</Tag>;
}
