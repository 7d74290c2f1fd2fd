import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { setToken } from '../api/client';
import i18n from '../i18n';
import { json, mockFetch, renderWithApp } from '../test/render';
import { NotificationBell } from './NotificationBell';

describe('NotificationBell', () => {
  it('shows the unread count, lists the notifications and clears the count on mark all read', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    let read = false;
    const items = () => [
      { id: 1, title: '[elasticpool] New pool entry order EP-1', body: 'Strategy "hot" opened a pool entry order.\n\nOrder: EP-1\nOpen in the workbench: http://x/orders/1', link: 'http://x/orders/1', eventId: 'e1', read, readAt: null, createdAt: '2026-11-29T06:00:00Z' },
      { id: 2, title: 'Order EP-0 processing → completed', body: 'by alice', link: '', eventId: 'e2', read: true, readAt: '2026-11-29T05:00:00Z', createdAt: '2026-11-29T05:00:00Z' },
    ];
    const seen = mockFetch((url) => {
      if (url.pathname === '/api/v1/notifications') return json(200, { items: items() });
      if (url.pathname === '/api/v1/notifications/unread-count') return json(200, { count: read ? 0 : 1 });
      if (url.pathname === '/api/v1/notifications/read-all') {
        read = true;
        return json(200, { updated: 1 });
      }
      return json(404, { title: 'Not Found' }, 'application/problem+json');
    });
    renderWithApp(<NotificationBell />);
    await waitFor(() => expect(screen.getByTestId('notification-badge')).toHaveAttribute('data-unread', '1'));
    fireEvent.click(screen.getByTestId('notification-bell'));
    // The subject without the mail tag, and the mail's first paragraph only.
    expect(await screen.findByText('New pool entry order EP-1')).toBeInTheDocument();
    expect(screen.getByText('Strategy "hot" opened a pool entry order.')).toBeInTheDocument();
    expect(screen.queryByText(/Open in the workbench/)).toBeNull();
    expect(screen.getByText('Order EP-0 processing → completed')).toBeInTheDocument();
    fireEvent.click(screen.getByTestId('notification-read-all'));
    await waitFor(() => expect(screen.getByTestId('notification-badge')).toHaveAttribute('data-unread', '0'));
    expect(seen.some((r) => r.method === 'POST' && r.url.pathname === '/api/v1/notifications/read-all')).toBe(true);
    setToken(null);
  });
});
