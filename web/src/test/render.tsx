import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router-dom';
import { AppProviders, newQueryClient } from '../AppProviders';
import type { Role } from '../api/models';
import { MeProvider } from '../components/Permission';

/** Renders ui as App would, signed in as role (default admin: every button shows). */
export function renderWithApp(ui: ReactElement, route = '/', role: Role = 'admin') {
  const client = newQueryClient();
  client.setDefaultOptions({ queries: { retry: false } });
  return render(
    <AppProviders client={client}>
      <MeProvider me={{ subject: `test-${role}`, role, authMethod: 'token' }}>
        <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
      </MeProvider>
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
    // openapi-fetch sends a Request: its headers stand in for init's.
    const headers = init.headers ?? (input instanceof Request ? input.headers : undefined);
    return handler(url, { ...init, method, headers, bodyText });
  }) as typeof fetch;
  return seen;
}

export function json(status: number, body: unknown, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}
