import { describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import { setToken } from '../../api/client';
import i18n from '../../i18n';
import { json, mockFetch, renderWithApp } from '../../test/render';
import WorkbenchPage from './WorkbenchPage';

const pendingOrder = {
  id: 9,
  orderNumber: 'EP-20261129-000009',
  actionType: 'maintenance',
  status: 'pending',
  version: 1,
  clusterId: 1,
  poolId: 2,
  clusterName: 'bj-1',
  poolName: 'general',
  deviceCount: 1,
  strategyTriggeredValue: '',
  createdAt: '2026-11-29T06:00:00Z',
  allowedActions: [
    { action: 'confirm', status: 'maintenance_in_progress', needsReason: false },
    { action: 'cancel', status: 'cancelled', needsReason: false },
  ],
};

describe('WorkbenchPage', () => {
  it('shows the four cards, the pending orders with their actions, and says when there are no pools', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    mockFetch((url) => {
      if (url.pathname === '/api/v1/workbench/summary')
        return json(200, { pendingOrders: 1, triggeredPools: 2, shortagesLast7Days: 3, maintenanceInProgress: 4 });
      if (url.pathname === '/api/v1/elastic-scaling/orders') return json(200, { items: [pendingOrder] });
      return json(200, { items: [] });
    });
    renderWithApp(<WorkbenchPage />);
    for (const [card, n] of [['pending', '1'], ['over', '2'], ['short', '3'], ['maint', '4']])
      await waitFor(() => expect(within(screen.getByTestId(`card-${card}`)).getByText(n)).toBeInTheDocument());
    expect(screen.getByText('Inventory shortages')).toBeInTheDocument();
    expect(screen.getByText('Maintenance in progress')).toBeInTheDocument();
    const row = (await screen.findByText('EP-20261129-000009')).closest('tr')!;
    expect(within(row).getByTestId('order-action-confirm')).toBeInTheDocument();
    expect(within(row).getByTestId('order-action-cancel')).toBeInTheDocument();
    expect(await screen.findByText(/No pools yet/)).toBeInTheDocument();
    setToken(null);
  });

  it('shows a viewer the pending orders without an actions column', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    mockFetch((url) => {
      if (url.pathname === '/api/v1/workbench/summary')
        return json(200, { pendingOrders: 1, triggeredPools: 0, shortagesLast7Days: 0, maintenanceInProgress: 0 });
      if (url.pathname === '/api/v1/elastic-scaling/orders') return json(200, { items: [pendingOrder] });
      return json(200, { items: [] });
    });
    renderWithApp(<WorkbenchPage />, '/', 'viewer');
    const row = (await screen.findByText('EP-20261129-000009')).closest('tr')!;
    expect(within(row).queryByTestId('order-action-confirm')).toBeNull();
    const list = screen.getByTestId('pending-orders');
    expect(within(list).queryByRole('columnheader', { name: 'Actions' })).toBeNull();
    expect(within(list).getByRole('columnheader', { name: 'Status' })).toBeInTheDocument();
    setToken(null);
  });

  it('shows an error with a retry when the summary fails, and the empty list', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    mockFetch((url) => {
      if (url.pathname === '/api/v1/workbench/summary')
        return json(503, { status: 503, title: 'Service Unavailable', detail: 'database unavailable' }, 'application/problem+json');
      return json(200, { items: [] });
    });
    renderWithApp(<WorkbenchPage />);
    const err = await screen.findByTestId('error-state', {}, { timeout: 8000 });
    expect(within(err).getByText('database unavailable')).toBeInTheDocument();
    expect(within(err).getByRole('button', { name: 'Retry' })).toBeInTheDocument();
    expect(within(screen.getByTestId('pending-orders')).getByTestId('empty-state')).toBeInTheDocument();
    setToken(null);
  });
});
