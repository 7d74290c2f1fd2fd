import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { Route, Routes } from 'react-router-dom';
import { setToken } from '../../api/client';
import type { Order, Role } from '../../api/models';
import i18n from '../../i18n';
import { json, mockFetch, renderWithApp } from '../../test/render';
import OrderDetailPage from './OrderDetailPage';

function order(extra: Partial<Order> = {}): Order {
  return {
    id: 7,
    orderNumber: 'EP-20261129-000007',
    actionType: 'pool_exit',
    status: 'processing',
    version: 3,
    clusterId: 1,
    poolId: 2,
    clusterName: 'bj-1',
    poolName: 'general',
    deviceCount: 2,
    strategyTriggeredValue: '',
    createdAt: '2026-11-29T06:00:00Z',
    allowedActions: [
      { action: 'complete', status: 'completed', needsReason: false },
      { action: 'fail', status: 'failed', needsReason: true },
    ],
    ...extra,
  } as Order;
}

const devices = {
  items: [
    { orderId: 7, deviceId: 11, hostname: 'node-11', ip: '10.0.0.11', role: 'remove', status: 'done', error: '', deviceStatus: 'in_pool', updatedAt: '2026-11-29T06:00:00Z' },
    {
      orderId: 7,
      deviceId: 12,
      hostname: 'node-12',
      ip: '10.0.0.12',
      role: 'remove',
      status: 'failed',
      error: 'drain: pod web-1 blocked by PDB web',
      deviceStatus: 'in_pool',
      updatedAt: '2026-11-29T06:00:00Z',
    },
  ],
};

const plan = {
  orderId: 7,
  orderNumber: 'EP-20261129-000007',
  actionType: 'pool_exit',
  orderStatus: 'processing',
  dryRun: true,
  manual: false,
  queued: false,
  notes: ['dry run: executing would move the order to failed'],
  devices: [
    {
      deviceId: 11,
      hostname: 'node-11',
      node: 'k8s-node-11',
      clusterId: 1,
      operation: 'pool_exit',
      status: 'done',
      error: '',
      steps: [
        { node: 'k8s-node-11', action: 'cordon' },
        { node: 'k8s-node-11', action: 'evict', detail: 'default/web-0' },
        { node: 'k8s-node-11', action: 'unlabel', detail: 'pool' },
      ],
    },
    {
      deviceId: 12,
      hostname: 'node-12',
      node: 'k8s-node-12',
      clusterId: 1,
      operation: 'pool_exit',
      status: 'failed',
      error: 'Cannot evict pod as it would violate the pod’s disruption budget',
      steps: [{ node: 'k8s-node-12', action: 'cordon' }],
    },
  ],
};

const manualPlan = {
  ...plan,
  manual: true,
  notes: ['the cluster has no credentials (manual mode): nothing is done in it; act in the cluster and complete the order by hand'],
  devices: plan.devices.map((d) => ({ ...d, status: 'pending', error: 'cluster bj-1 has no credentials (manual mode): nothing done; act by hand', steps: [] })),
};

type Handler = (body: { dryRun?: boolean } | undefined) => Response;

/** The order's API (order, devices, audit) plus a handler for …/operations. */
function serve(o: Order, operations: Handler) {
  return mockFetch((url, init) => {
    const p = url.pathname;
    if (p === '/api/v1/elastic-scaling/orders/7') return json(200, o);
    if (p === '/api/v1/elastic-scaling/orders/7/devices') return json(200, devices);
    if (p === '/api/v1/elastic-scaling/orders/7/audit') return json(200, { items: [] });
    if (p === '/api/v1/elastic-scaling/orders/7/operations' && init.method === 'POST')
      return operations(init.bodyText ? JSON.parse(init.bodyText) : undefined);
    return json(200, { items: [] });
  });
}

function renderPage(role: Role = 'admin') {
  return renderWithApp(
    <Routes>
      <Route path="/orders/:id" element={<OrderDetailPage />} />
    </Routes>,
    '/orders/7',
    role,
  );
}

const count = (seen: { method: string; url: URL }[], path: string, method = 'GET') => seen.filter((r) => r.method === method && r.url.pathname === path).length;

describe('OrderDetailPage node operations', () => {
  it('shows each device’s error in the devices table', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    serve(order(), () => json(200, plan));
    renderPage();
    const row = (await within(await screen.findByTestId('order-devices')).findByText('node-12')).closest('tr')!;
    expect(within(row).getByText('drain: pod web-1 blocked by PDB web')).toBeInTheDocument();
    expect(within(row).getByText('Failed')).toBeInTheDocument();
    setToken(null);
  });

  it('previews the plan of a processing order: per device its node, steps and error', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    const seen = serve(order(), () => json(200, plan));
    renderPage();
    fireEvent.click(await screen.findByTestId('order-ops-preview'));
    const modal = await screen.findByTestId('ops-plan');
    const post = seen.find((r) => r.method === 'POST')!;
    expect(post.url.pathname).toBe('/api/v1/elastic-scaling/orders/7/operations');
    expect(post.body).toEqual({ dryRun: true });
    expect(screen.getByText('Node operations of order EP-20261129-000007 (dry run)')).toBeInTheDocument();
    expect(within(modal).getByText(/nothing was changed in the cluster/)).toBeInTheDocument();
    expect(within(modal).getByText('dry run: executing would move the order to failed')).toBeInTheDocument();
    const first = within(modal).getByText('k8s-node-11').closest('tr')!;
    expect(within(first).getByText('node-11')).toBeInTheDocument();
    expect(within(first).getByText('Pool exit')).toBeInTheDocument();
    expect(within(first).getAllByTestId('ops-step').map((s) => s.textContent)).toEqual(['Cordon', 'Evictdefault/web-0', 'Remove labelpool']);
    const second = within(modal).getByText('k8s-node-12').closest('tr')!;
    expect(within(second).getByText('Failed')).toBeInTheDocument();
    expect(within(second).getByText('Cannot evict pod as it would violate the pod’s disruption budget')).toBeInTheDocument();
    expect(within(modal).queryByTestId('ops-manual')).not.toBeInTheDocument();
    setToken(null);
  });

  it('says when the cluster is in manual mode (zh-CN)', async () => {
    await i18n.changeLanguage('zh-CN');
    setToken('t0k');
    serve(order({ status: 'pending', allowedActions: [] }), () => json(200, manualPlan));
    renderPage();
    // A pending order can be previewed, not re-run.
    fireEvent.click(await screen.findByText('预览节点操作'));
    expect(screen.queryByTestId('order-ops-rerun')).not.toBeInTheDocument();
    const manual = await screen.findByTestId('ops-manual');
    expect(within(manual).getByText('手动模式：该集群未配置凭据')).toBeInTheDocument();
    const modal = screen.getByTestId('ops-plan');
    expect(within(modal).getAllByText('无步骤')).toHaveLength(2);
    expect(within(modal).getAllByText('待处理')).toHaveLength(2);
    expect(within(modal).getByText('处理状态')).toBeInTheDocument(); // the status now, not one a run would record
    setToken(null);
  });

  it('shows a problem answer (503: previews unavailable) with a retry in the modal', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    let calls = 0;
    serve(order(), () => {
      calls++;
      return json(
        503,
        { status: 503, title: 'Service Unavailable', detail: 'this deployment cannot reach the clusters from the API (no node operations wired)' },
        'application/problem+json',
      );
    });
    renderPage();
    fireEvent.click(await screen.findByTestId('order-ops-preview'));
    const err = await within(await screen.findByTestId('ops-preview')).findByTestId('error-state');
    expect(within(err).getByText('503 Service Unavailable')).toBeInTheDocument();
    expect(within(err).getByText(/no node operations wired/)).toBeInTheDocument();
    fireEvent.click(within(err).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(calls).toBe(2));
    setToken(null);
  });

  it('re-runs a processing order after confirmation, says it was queued and refreshes the order and its devices', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    const seen = serve(order(), () =>
      json(202, { ...plan, dryRun: false, queued: true, eventId: 'order-7-execute-r1', notes: ['execution queued'], devices: [] }),
    );
    renderPage();
    await screen.findByText('node-12');
    const before = { order: count(seen, '/api/v1/elastic-scaling/orders/7'), devices: count(seen, '/api/v1/elastic-scaling/orders/7/devices') };
    fireEvent.click(screen.getByTestId('order-ops-rerun'));
    expect(await screen.findByText('Re-run the node operations of order EP-20261129-000007?')).toBeInTheDocument();
    expect(seen.some((r) => r.method === 'POST')).toBe(false); // nothing before the confirmation
    fireEvent.click(screen.getByTestId('order-ops-rerun-ok'));
    expect(await screen.findByText('Execution queued: progress shows on the order’s devices')).toBeInTheDocument();
    const post = seen.find((r) => r.method === 'POST')!;
    expect(post.url.pathname).toBe('/api/v1/elastic-scaling/orders/7/operations');
    expect(post.body).toEqual({ dryRun: false });
    await waitFor(() => expect(count(seen, '/api/v1/elastic-scaling/orders/7')).toBeGreaterThan(before.order));
    await waitFor(() => expect(count(seen, '/api/v1/elastic-scaling/orders/7/devices')).toBeGreaterThan(before.devices));
    setToken(null);
  });

  it('keeps the confirmation open with the problem when a re-run is refused (409)', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    serve(order(), () =>
      json(
        409,
        {
          status: 409,
          title: 'Conflict',
          detail: 'order EP-20261129-000007 is completed; its node operations run while it is processing (execute or retry it first)',
          errors: [{ location: 'path.id', message: 'order is completed', value: 7 }],
        },
        'application/problem+json',
      ),
    );
    renderPage();
    fireEvent.click(await screen.findByTestId('order-ops-rerun'));
    fireEvent.click(await screen.findByTestId('order-ops-rerun-ok'));
    const err = await screen.findByTestId('error-state');
    expect(within(err).getByText('409 Conflict')).toBeInTheDocument();
    expect(within(err).getByText('path.id: order is completed')).toBeInTheDocument();
    expect(screen.getByText('Re-run the node operations of order EP-20261129-000007?')).toBeInTheDocument();
    expect(screen.queryByText(/Execution queued/)).not.toBeInTheDocument();
    setToken(null);
  });

  it('offers neither on a closed order, and re-run on a maintenance order in maintenance', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    serve(order({ status: 'completed', allowedActions: [] }), () => json(200, plan));
    const { unmount } = renderPage();
    await screen.findByText('node-12');
    expect(screen.queryByTestId('order-ops-preview')).not.toBeInTheDocument();
    expect(screen.queryByTestId('order-ops-rerun')).not.toBeInTheDocument();
    unmount();
    serve(order({ actionType: 'maintenance', status: 'maintenance_in_progress', allowedActions: [{ action: 'complete', status: 'completed', needsReason: false }] }), () =>
      json(200, plan),
    );
    renderPage();
    expect(await screen.findByTestId('order-ops-rerun')).toBeInTheDocument();
    expect(screen.getByTestId('order-ops-preview')).toBeInTheDocument();
    setToken(null);
  });
});

describe('OrderDetailPage by role', () => {
  // A processing order offers complete/fail and both node-operation buttons (preview, re-run) to an operator.
  it('a viewer gets no step or operation buttons, and a note naming the role they need', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    const seen = serve(order(), () => json(200, plan));
    renderPage('viewer');
    expect(await screen.findByTestId('order-actions-readonly')).toHaveTextContent('needs the Operator role');
    await screen.findByTestId('order-devices');
    for (const id of ['order-action-complete', 'order-action-fail', 'order-ops-preview', 'order-ops-rerun']) {
      expect(screen.queryByTestId(id)).not.toBeInTheDocument();
    }
    expect(seen.some((r) => r.method !== 'GET')).toBe(false);
    setToken(null);
  });

  it('an operator gets the steps and the operations', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    serve(order(), () => json(200, plan));
    renderPage('operator');
    expect(await screen.findByTestId('order-action-complete')).toBeEnabled();
    expect(screen.getByTestId('order-action-fail')).toBeEnabled();
    expect(screen.getByTestId('order-ops-preview')).toBeEnabled();
    expect(screen.getByTestId('order-ops-rerun')).toBeEnabled();
    expect(screen.queryByTestId('order-actions-readonly')).not.toBeInTheDocument();
    setToken(null);
  });
});
