import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { setToken } from '../../api/client';
import type { Role, Strategy } from '../../api/models';
import i18n from '../../i18n';
import { json, mockFetch, renderWithApp } from '../../test/render';
import StrategiesPage from './StrategiesPage';

const strategy = {
  id: 3,
  name: 'cpu-hot',
  thresholdTriggerAction: 'pool_entry',
  cpuThresholdValue: 80,
  cpuThresholdType: 'allocated',
  cpuTargetValue: 60,
  memoryThresholdValue: null,
  conditionLogic: 'AND',
  durationMinutes: 4320,
  resourceTypes: 'general',
  clusterIds: [1],
  status: 'enabled',
  version: 1,
  updatedAt: '2026-11-29T06:00:00Z',
} as unknown as Strategy;

describe('StrategiesPage', () => {
  it('deletes a strategy only after the confirmation', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    let deleted = false;
    const seen = mockFetch((url, init) => {
      if (url.pathname === '/api/v1/elastic-scaling/strategies/3' && init.method === 'DELETE') {
        deleted = true;
        return new Response(null, { status: 204 });
      }
      if (url.pathname === '/api/v1/elastic-scaling/strategies') return json(200, { items: deleted ? [] : [strategy] });
      if (url.pathname === '/api/v1/clusters') return json(200, { items: [{ id: 1, name: 'bj-1', displayName: 'Beijing 1' }] });
      return json(200, { items: [] });
    });
    renderWithApp(<StrategiesPage />);
    expect(await screen.findByText('cpu-hot')).toBeInTheDocument();
    expect(await screen.findByText('Beijing 1', {}, { timeout: 5000 })).toBeInTheDocument(); // associated clusters by name
    fireEvent.click(screen.getByTestId('strategy-delete-3'));
    expect(await screen.findByText('Delete it?', { exact: false })).toBeInTheDocument();
    expect(seen.some((r) => r.method === 'DELETE')).toBe(false);
    fireEvent.click(screen.getByTestId('strategy-delete-ok-3'));
    await waitFor(() => expect(seen.some((r) => r.method === 'DELETE' && r.url.pathname === '/api/v1/elastic-scaling/strategies/3')).toBe(true));
    expect(await screen.findByTestId('empty-state')).toBeInTheDocument();
    setToken(null);
  });
});

describe('StrategiesPage by role', () => {
  const serve = () =>
    mockFetch((url) => {
      if (url.pathname === '/api/v1/elastic-scaling/strategies') return json(200, { items: [strategy] });
      if (url.pathname === '/api/v1/clusters') return json(200, { items: [{ id: 1, name: 'bj-1', displayName: 'Beijing 1' }] });
      return json(200, { items: [] });
    });
  const mutations = () => [
    screen.getByTestId('strategy-create'),
    screen.getByTestId('run-3'),
    screen.getByTestId('dryrun-3'),
    screen.getByTestId('strategy-delete-3'),
    screen.getByRole('switch'),
  ];

  it('a viewer sees every mutation disabled, with the role it needs on hover, and can only view details', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    const seen = serve();
    renderWithApp(<StrategiesPage />, '/', 'viewer' satisfies Role);
    expect(await screen.findByText('cpu-hot')).toBeInTheDocument();
    for (const el of mutations()) expect(el).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Details' })).toBeEnabled();
    expect(screen.queryByRole('button', { name: 'Edit' })).not.toBeInTheDocument();
    fireEvent.mouseEnter(screen.getByTestId('strategy-create').parentElement!);
    expect(await screen.findByText('Needs the Operator role')).toBeInTheDocument();
    // clicking a disabled control sends nothing
    fireEvent.click(screen.getByTestId('strategy-delete-3'));
    fireEvent.click(screen.getByTestId('run-3'));
    expect(seen.some((r) => r.method !== 'GET')).toBe(false);
    setToken(null);
  });

  it('an operator gets them enabled', async () => {
    await i18n.changeLanguage('en-US');
    setToken('t0k');
    serve();
    renderWithApp(<StrategiesPage />, '/', 'operator');
    expect(await screen.findByText('cpu-hot')).toBeInTheDocument();
    for (const el of mutations()) expect(el).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Edit' })).toBeEnabled();
    setToken(null);
  });
});
