import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, api, getToken, request, setToken } from './client';
import { typed } from './typed';
import { json, mockFetch } from '../test/render';

afterEach(() => setToken(null));

describe('request', () => {
  it('sends the bearer token and repeats list parameters (huma explode form)', async () => {
    setToken('abc');
    let auth = '';
    const seen = mockFetch((_, init) => {
      auth = new Headers(init.headers).get('Authorization') ?? '';
      return json(200, { items: [], nextCursor: '' });
    });
    await typed.get('/elastic-scaling/orders', { query: { status: ['pending', 'failed'], limit: 5 } });
    expect(auth).toBe('Bearer abc');
    expect(seen[0].url.pathname).toBe('/api/v1/elastic-scaling/orders');
    expect(seen[0].url.searchParams.getAll('status')).toEqual(['pending', 'failed']);
    expect(seen[0].url.searchParams.get('limit')).toBe('5');
  });

  it('fills path parameters', async () => {
    const seen = mockFetch(() => json(200, {}));
    await typed.put('/elastic-scaling/orders/{id}/status', { status: 'processing', version: 2 }, { path: { id: 42 } });
    expect(seen[0].method).toBe('PUT');
    expect(seen[0].url.pathname).toBe('/api/v1/elastic-scaling/orders/42/status');
    expect(seen[0].body).toEqual({ status: 'processing', version: 2 });
  });

  it('turns problem+json into ApiError with the field errors', async () => {
    mockFetch(() =>
      json(422, { status: 422, title: 'Unprocessable Entity', detail: 'invalid strategy', errors: [{ location: 'body.cpuTargetValue', message: 'must be below' }] }, 'application/problem+json'),
    );
    const err = (await api.post('/elastic-scaling/strategies', {}).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.message).toBe('invalid strategy');
    expect(err.problem.errors).toEqual([{ location: 'body.cpuTargetValue', message: 'must be below' }]);
  });

  it('marks a plain 404 as a route the server does not serve', async () => {
    mockFetch(() => new Response('404 page not found', { status: 404 }));
    const err = (await request('GET', '/nope').catch((e) => e)) as ApiError;
    expect(err.problem.notServed).toBe(true);
  });

  it('signs out on 401', async () => {
    setToken('stale');
    mockFetch(() => json(401, { status: 401, title: 'Unauthorized', detail: 'a valid bearer token is required' }));
    await api.get('/clusters').catch(() => {});
    expect(getToken()).toBeNull();
  });
});
