import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import type { ActionType, Order, OrderStatus } from '../api/models';
import { setToken } from '../api/client';
import { allowedActions } from '../lib/orderFlow';
import { json, mockFetch, renderWithApp } from '../test/render';
import i18n from '../i18n';
import { OrderActions } from './OrderActions';

function order(actionType: ActionType, status: OrderStatus, extra: Partial<Order> = {}): Order {
  return {
    id: 7,
    orderNumber: 'ESO-7',
    actionType,
    status,
    version: 3,
    deviceCount: 1,
    createdAt: '2026-11-29T06:00:00Z',
    ...extra,
  } as Order;
}

const buttons = () => screen.queryAllByRole('button').map((b) => b.getAttribute('data-testid')?.replace('order-action-', ''));

describe('allowed actions per status (DESIGN §7, shared/orderflow)', () => {
  const cases: [ActionType, OrderStatus, string[]][] = [
    ['pool_entry', 'pending', ['execute', 'ignore', 'cancel']],
    ['pool_entry', 'processing', ['complete', 'fail']],
    ['pool_exit', 'failed', ['retry', 'cancel']],
    ['pool_entry', 'completed', []],
    ['pool_entry', 'ignored', []],
    ['pool_exit', 'cancelled', []],
    ['maintenance', 'pending', ['confirm', 'cancel']],
    ['maintenance', 'maintenance_in_progress', ['complete']],
    ['uncordon', 'pending', ['execute', 'ignore', 'cancel']],
  ];
  for (const [type, status, want] of cases)
    it(`${type} ${status}`, async () => {
      await i18n.changeLanguage('en-US');
      expect(allowedActions(type, status).map((a) => a.action)).toEqual(want);
      renderWithApp(<OrderActions order={order(type, status)} />);
      expect(buttons()).toEqual(want);
    });

  it('follows the server’s allowedActions when the order carries them', () => {
    renderWithApp(<OrderActions order={order('pool_entry', 'pending', { allowedActions: [{ action: 'execute', status: 'processing', needsReason: false }] })} />);
    expect(buttons()).toEqual(['execute']);
  });
});

describe('performing an action', () => {
  it('PUTs the target status with the version, and fail asks for a reason', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    const seen = mockFetch(() => json(200, order('pool_entry', 'failed')));
    renderWithApp(<OrderActions order={order('pool_entry', 'processing', { allowedActions: [
      { action: 'complete', status: 'completed', needsReason: false },
      { action: 'fail', status: 'failed', needsReason: true },
    ] })} />);
    fireEvent.click(screen.getByTestId('order-action-fail'));
    fireEvent.click(await screen.findByTestId('order-action-ok'));
    expect(await screen.findByText('Give a reason')).toBeInTheDocument();
    expect(seen).toHaveLength(0);
    fireEvent.change(screen.getByRole('textbox'), { target: { value: 'disk broken' } });
    fireEvent.click(screen.getByTestId('order-action-ok'));
    await waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0].method).toBe('PUT');
    expect(seen[0].url.pathname).toBe('/api/v1/elastic-scaling/orders/7/status');
    expect(seen[0].body).toEqual({ status: 'failed', reason: 'disk broken', version: 3 });
    setToken(null);
  });
});
