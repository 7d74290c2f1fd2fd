// The order lifecycle of DESIGN.md §7 as the buttons the UI offers. It mirrors
// shared/orderflow; the server is the authority: an order carries
// allowedActions (action, target status, needsReason) and those win.
import type { ActionType, OrderStatus } from '../api/models';

export type OrderAction = 'execute' | 'complete' | 'fail' | 'retry' | 'ignore' | 'cancel' | 'confirm';

export interface ActionSpec {
  action: OrderAction;
  /** The status PUT to …/orders/{id}/status. */
  status: OrderStatus;
  /** The request must carry a reason (fail: kept as failureReason). */
  needsReason: boolean;
}

const workFlow: Partial<Record<OrderStatus, [OrderAction, OrderStatus][]>> = {
  pending: [
    ['execute', 'processing'],
    ['ignore', 'ignored'],
    ['cancel', 'cancelled'],
  ],
  processing: [
    ['complete', 'completed'],
    ['fail', 'failed'],
  ],
  failed: [
    ['retry', 'processing'],
    ['cancel', 'cancelled'],
  ],
};

const maintenanceFlow: Partial<Record<OrderStatus, [OrderAction, OrderStatus][]>> = {
  pending: [
    ['confirm', 'maintenance_in_progress'],
    ['cancel', 'cancelled'],
  ],
  maintenance_in_progress: [['complete', 'completed']],
};

/** The actions the state machine allows for an order of actionType in status, in button order. */
export function allowedActions(actionType: ActionType, status: OrderStatus): ActionSpec[] {
  const flow = actionType === 'maintenance' ? maintenanceFlow : workFlow;
  return (flow[status] ?? []).map(([action, to]) => ({ action, status: to, needsReason: action === 'fail' }));
}

export interface ServerStep {
  action: string;
  status: string;
  needsReason?: boolean;
}

/** The buttons for an order: the server's allowedActions when it sent them, else the local table. */
export function actionsFor(order: { actionType: ActionType; status: OrderStatus; allowedActions?: ServerStep[] | null }): ActionSpec[] {
  if (Array.isArray(order.allowedActions)) {
    return order.allowedActions.map((s) => ({
      action: s.action as OrderAction,
      status: s.status as OrderStatus,
      needsReason: !!s.needsReason,
    }));
  }
  return allowedActions(order.actionType, order.status);
}

export const primaryActions: OrderAction[] = ['execute', 'complete', 'confirm', 'retry'];
export const dangerActions: OrderAction[] = ['fail', 'cancel'];

export const orderStatuses: OrderStatus[] = [
  'pending',
  'processing',
  'maintenance_in_progress',
  'completed',
  'failed',
  'ignored',
  'cancelled',
];

export const statusColor: Record<OrderStatus, string> = {
  pending: 'gold',
  processing: 'blue',
  maintenance_in_progress: 'purple',
  completed: 'green',
  failed: 'red',
  ignored: 'default',
  cancelled: 'default',
};
