import { afterEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { App } from './App';
import { AppProviders, newQueryClient } from './AppProviders';
import { getToken, setToken } from './api/client';
import i18n from './i18n';
import { json, mockFetch } from './test/render';

function renderApp() {
  const client = newQueryClient();
  client.setDefaultOptions({ queries: { retry: false } });
  return render(
    <AppProviders client={client}>
      <MemoryRouter initialEntries={['/duty']}>
        <App />
      </MemoryRouter>
    </AppProviders>,
  );
}

const unauthorized = () => json(401, { status: 401, title: 'Unauthorized', detail: 'a valid bearer token is required' }, 'application/problem+json');

afterEach(() => setToken(null));

describe('App and the signed-in user', () => {
  it('fetches /me for a stored token and shows the subject and role in the header', async () => {
    await i18n.changeLanguage('en-US');
    setToken('viewer-token');
    const seen = mockFetch((url) => {
      if (url.pathname === '/api/v1/me') return json(200, { subject: 'victor', role: 'viewer', authMethod: 'token' });
      return json(200, { items: [] });
    });
    renderApp();
    expect(await screen.findByTestId('me-subject')).toHaveTextContent('victor');
    expect(screen.getByTestId('me-role')).toHaveTextContent('Viewer');
    // the page under it knows the role too
    expect(await screen.findByTestId('duty-add', {}, { timeout: 5000 })).toBeDisabled();
    expect(seen.filter((r) => r.url.pathname === '/api/v1/me')).toHaveLength(1);
  });

  it('sends a rejected stored token back to sign-in and says why', async () => {
    await i18n.changeLanguage('en-US');
    setToken('expired-token');
    mockFetch((url) => (url.pathname === '/api/v1/me' ? unauthorized() : json(200, { items: [] })));
    renderApp();
    expect(await screen.findByTestId('login-error')).toHaveTextContent('rejected your token');
    expect(getToken()).toBeNull();
    expect(screen.queryByTestId('me')).not.toBeInTheDocument();
  });

  it('signs in with a token checked against /me and shows its role', async () => {
    await i18n.changeLanguage('en-US');
    const seen = mockFetch((url, init) => {
      const auth = new Headers(init.headers).get('Authorization');
      if (url.pathname === '/api/v1/me')
        return auth === 'Bearer op-token' ? json(200, { subject: 'oscar', role: 'operator', authMethod: 'token' }) : unauthorized();
      return json(200, { items: [] });
    });
    renderApp();
    fireEvent.change(await screen.findByTestId('login-token'), { target: { value: 'wrong' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect(await screen.findByTestId('login-error')).toHaveTextContent('invalid');
    fireEvent.change(screen.getByTestId('login-token'), { target: { value: 'op-token' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect(await screen.findByTestId('me-role')).toHaveTextContent('Operator');
    expect(screen.getByTestId('me-subject')).toHaveTextContent('oscar');
    expect(await screen.findByTestId('duty-add', {}, { timeout: 5000 })).toBeEnabled();
    await waitFor(() => expect(getToken()).toBe('op-token'));
    // the bare probe for a proxy session (401), then the two sign-in attempts;
    // the sign-in answer seeds the user: /me is not asked again
    expect(seen.filter((r) => r.url.pathname === '/api/v1/me')).toHaveLength(3);
  });
});

describe('App behind the trusted auth proxy (no token)', () => {
  it('signs in the user the proxy names: header shows subject and role, no sign-out', async () => {
    await i18n.changeLanguage('en-US');
    const auths: (string | null)[] = [];
    mockFetch((url, init) => {
      if (url.pathname === '/api/v1/me') {
        auths.push(new Headers(init.headers).get('Authorization'));
        return json(200, { subject: 'petra', role: 'operator', authMethod: 'proxy' });
      }
      return json(200, { items: [] });
    });
    renderApp();
    expect(await screen.findByTestId('me-subject')).toHaveTextContent('petra');
    expect(screen.getByTestId('me-role')).toHaveTextContent('Operator');
    // the proxy owns the session: an explanation instead of sign-out
    expect(screen.getByTestId('proxy-session')).toHaveTextContent('auth proxy');
    expect(screen.queryByTestId('sign-out')).not.toBeInTheDocument();
    expect(screen.queryByTestId('login-token')).not.toBeInTheDocument();
    // the page under it gets the role
    expect(await screen.findByTestId('duty-add', {}, { timeout: 5000 })).toBeEnabled();
    expect(auths).toEqual([null]); // asked once, without a token
    expect(getToken()).toBeNull();
  });

  it('shows the token sign-in page when the server answers 401 without a token', async () => {
    await i18n.changeLanguage('en-US');
    const seen = mockFetch((url) => (url.pathname === '/api/v1/me' ? unauthorized() : json(200, { items: [] })));
    renderApp();
    expect(await screen.findByTestId('login-token')).toBeInTheDocument();
    // a plain sign-in page: nobody's token was rejected
    expect(screen.queryByTestId('login-error')).not.toBeInTheDocument();
    expect(screen.queryByTestId('me')).not.toBeInTheDocument();
    expect(seen.filter((r) => r.url.pathname === '/api/v1/me')).toHaveLength(1);
  });

  it('does not take a token answer to the bare probe as a proxy session', async () => {
    await i18n.changeLanguage('en-US');
    mockFetch((url) =>
      url.pathname === '/api/v1/me' ? json(200, { subject: 'tess', role: 'admin', authMethod: 'token' }) : json(200, { items: [] }),
    );
    renderApp();
    expect(await screen.findByTestId('login-token')).toBeInTheDocument();
    expect(screen.queryByTestId('me')).not.toBeInTheDocument();
  });

  it('a stored token wins: /me is asked with it only, and sign-out stays', async () => {
    await i18n.changeLanguage('en-US');
    setToken('admin-token');
    const auths: (string | null)[] = [];
    mockFetch((url, init) => {
      if (url.pathname === '/api/v1/me') {
        const auth = new Headers(init.headers).get('Authorization');
        auths.push(auth);
        return auth === 'Bearer admin-token'
          ? json(200, { subject: 'tess', role: 'admin', authMethod: 'token' })
          : json(200, { subject: 'petra', role: 'operator', authMethod: 'proxy' });
      }
      return json(200, { items: [] });
    });
    renderApp();
    expect(await screen.findByTestId('me-subject')).toHaveTextContent('tess');
    expect(screen.getByTestId('me-role')).toHaveTextContent('Admin');
    expect(screen.getByTestId('sign-out')).toBeInTheDocument();
    expect(screen.queryByTestId('proxy-session')).not.toBeInTheDocument();
    expect(auths).toEqual(['Bearer admin-token']);
  });
});
