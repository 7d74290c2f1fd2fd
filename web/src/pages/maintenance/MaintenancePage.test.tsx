import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { setToken } from '../../api/client';
import type { MaintenanceView } from '../../api/maintenance';
import i18n from '../../i18n';
import { json, mockFetch, renderWithApp } from '../../test/render';
import MaintenancePage from './MaintenancePage';

function view(extra: Partial<MaintenanceView> = {}): MaintenanceView {
  return {
    id: 5,
    orderNumber: 'EP-20261129-000005',
    actionType: 'maintenance',
    status: 'pending',
    version: 2,
    deviceId: 11,
    hostname: 'node-17',
    serial: 'SN-17',
    deviceStatus: 'in_pool',
    externalSystem: 'itsm',
    externalTicketId: 'CHG-42',
    reason: 'replace disk 3',
    maintenanceStartTime: null,
    maintenanceEndTime: null,
    uncordonOrderId: null,
    uncordonOrderNumber: null,
    uncordonOrderStatus: null,
    allowedActions: [
      { action: 'confirm', status: 'maintenance_in_progress', needsReason: false },
      { action: 'cancel', status: 'cancelled', needsReason: false },
    ],
    createdAt: '2026-11-29T06:00:00Z',
    ...extra,
  } as MaintenanceView;
}

describe('MaintenancePage', () => {
  it('lists requests from the maintenance API with the device, and confirms through it', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    let current = view();
    const seen = mockFetch((url, init) => {
      if (url.pathname === '/api/v1/maintenance/requests' && init.method === 'GET') return json(200, { items: [current] });
      if (url.pathname === '/api/v1/maintenance/requests/5/confirm') {
        current = view({ status: 'maintenance_in_progress', version: 3, deviceStatus: 'maintenance', allowedActions: [{ action: 'complete', status: 'completed', needsReason: false }] });
        return json(200, current);
      }
      return json(404, { title: 'Not Found' }, 'application/problem+json');
    });
    renderWithApp(<MaintenancePage />);
    const row = (await screen.findByText('node-17')).closest('tr')!;
    expect(within(row).getByText('itsm / CHG-42')).toBeInTheDocument();
    expect(within(row).getByText('In pool')).toBeInTheDocument();
    fireEvent.click(within(row).getByTestId('order-action-confirm'));
    fireEvent.click(await screen.findByTestId('order-action-ok'));
    await waitFor(() => expect(seen.some((r) => r.url.pathname.endsWith('/confirm'))).toBe(true));
    const post = seen.find((r) => r.url.pathname.endsWith('/confirm'))!;
    expect(post.method).toBe('POST');
    expect(post.body).toEqual({ version: 2 });
    // The list is fetched again and shows the next step.
    expect(await screen.findByTestId('order-action-complete')).toBeInTheDocument();
    setToken(null);
  });

  it('shows the API field errors of a request on its fields', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    const seen = mockFetch((_url, init) => {
      if (init.method === 'POST')
        return json(
          422,
          { status: 422, title: 'Unprocessable Entity', detail: 'invalid request', errors: [{ location: 'body.externalTicketId', message: 'must not be blank' }] },
          'application/problem+json',
        );
      return json(200, { items: [] });
    });
    renderWithApp(<MaintenancePage />);
    expect(await screen.findByTestId('empty-state')).toBeInTheDocument();
    fireEvent.click(screen.getByTestId('maintenance-request'));
    fireEvent.change(await screen.findByTestId('maintenance-hostname'), { target: { value: 'nod-17' } });
    fireEvent.change(screen.getByTestId('maintenance-ticket'), { target: { value: 'CHG-1' } });
    fireEvent.change(screen.getByTestId('maintenance-reason'), { target: { value: 'disk' } });
    fireEvent.click(screen.getByTestId('maintenance-form-ok'));
    const err = await screen.findByText('must not be blank');
    expect(err.closest('.ant-form-item')!.querySelector('[data-testid=maintenance-ticket]')).not.toBeNull();
    expect(seen.find((r) => r.method === 'POST')!.body).toEqual({ hostname: 'nod-17', externalTicketId: 'CHG-1', reason: 'disk' });
    setToken(null);
  });
});
