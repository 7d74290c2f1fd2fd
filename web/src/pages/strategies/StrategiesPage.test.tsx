import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { setToken } from '../../api/client';
import type { Strategy } from '../../api/models';
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
