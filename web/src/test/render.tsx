import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router-dom';
import { AppProviders, newQueryClient } from '../AppProviders';

export function renderWithApp(ui: ReactElement, route = '/') {
  const client = newQueryClient();
  client.setDefaultOptions({ queries: { retry: false } });
  return render(
    <AppProviders client={client}>
      <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
    </AppProviders>,
  );
}

/** Replaces fetch with a handler; returns the requests it saw. */
export function mockFetch(handler: (url: URL, init: RequestInit & { bodyText?: string }) => Response | Promise<Response>) {
  const seen: { method: string; url: URL; body?: unknown }[] = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    let bodyText = typeof init.body === 'string' ? init.body : undefined;
    if (!bodyText && input instanceof Request) bodyText = await input.clone().text();
    seen.push({ method, url, body: bodyText ? JSON.parse(bodyText) : undefined });
    return handler(url, { ...init, method, bodyText });
  }) as typeof fetch;
  return seen;
}

export function json(status: number, body: unknown, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}
