// The API client: openapi-fetch typed by the generated schema (npm run gen:api)
// for every path the server's OpenAPI document has, and `request` for the
// documented paths a server version may not serve yet. Both send the bearer
// token and turn RFC 9457 problem responses into ApiError.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

export const API_PREFIX = '/api/v1';
const TOKEN_KEY = 'elasticpool.token';

export interface ProblemFieldError {
  location?: string;
  message?: string;
  value?: unknown;
}

export interface Problem {
  /** Set by the client when the server answered 404/405 without a problem body: no such route yet. */
  notServed?: boolean;
  status?: number;
  title?: string;
  detail?: string;
  errors?: ProblemFieldError[] | null;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

// --- token -----------------------------------------------------------------

let memoryToken: string | null = null;
const listeners = new Set<() => void>();

function storage(): Storage | null {
  try {
    return typeof window !== 'undefined' ? window.localStorage : null;
  } catch {
    return null;
  }
}

export function getToken(): string | null {
  return memoryToken ?? storage()?.getItem(TOKEN_KEY) ?? null;
}

export function setToken(token: string | null) {
  memoryToken = token;
  if (token) signOutReason = null;
  const s = storage();
  if (token) s?.setItem(TOKEN_KEY, token);
  else s?.removeItem(TOKEN_KEY);
  listeners.forEach((l) => l());
}

/** Subscribes to sign-in / sign-out (a 401 signs out). */
export function onTokenChange(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

function baseUrl(): string {
  return typeof window !== 'undefined' && window.location?.origin && window.location.origin !== 'null'
    ? window.location.origin
    : 'http://localhost';
}

async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      const p = JSON.parse(text) as Problem;
      if (p && typeof p === 'object') return { status: res.status, ...p };
    } catch {
      /* not JSON: fall through */
    }
  }
  return {
    status: res.status,
    notServed: res.status === 404 || res.status === 405,
    title: res.statusText || `HTTP ${res.status}`,
    detail: text.slice(0, 300) || undefined,
  };
}

// Set when the server rejected the token (a 401 signed the user out) so the
// sign-in page can say why; cleared by the next sign-in.
let signOutReason: { status: number } | null = null;

/** Why the user was signed out, when it was the server rejecting the token. */
export function getSignOutReason(): { status: number } | null {
  return signOutReason;
}

function onUnauthorized(res: Response) {
  // A rejected token is dropped so the app shows the sign-in page.
  if (res.status === 401 && getToken()) {
    signOutReason = { status: 401 };
    setToken(null);
  }
}

const authMiddleware: Middleware = {
  onRequest({ request }) {
    const t = getToken();
    if (t) request.headers.set('Authorization', `Bearer ${t}`);
    return request;
  },
  onResponse({ response }) {
    onUnauthorized(response);
    return response;
  },
};

/** Typed client for the paths in src/api/schema.d.ts. */
// fetch is looked up per call (not captured at load) so tests can replace it.
export const client = createClient<paths>({ baseUrl: baseUrl(), fetch: (req) => globalThis.fetch(req) });
client.use(authMiddleware);

/** Unwraps an openapi-fetch result, throwing ApiError on a problem. */
export async function unwrap<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await p;
  if (!response.ok) {
    const prob = (error && typeof error === 'object' ? error : { title: String(error ?? response.statusText) }) as Problem;
    throw new ApiError(response.status, { status: response.status, ...prob });
  }
  return data as T;
}

export type Query = Record<string, string | number | boolean | undefined | null | Array<string | number>>;

function qs(query?: Query): string {
  if (!query) return '';
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    // Lists repeat the parameter (huma's explode form: status=a&status=b).
    if (Array.isArray(v)) v.forEach((x) => sp.append(k, String(x)));
    else sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Sent as is with contentType (e.g. a CSV import). */
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A request to path under /api/v1 (e.g. "/elastic-scaling/orders"). */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...opts.headers };
  const t = getToken();
  if (t) headers.Authorization = `Bearer ${t}`;
  let body: BodyInit | undefined;
  if (opts.rawBody !== undefined) {
    headers['Content-Type'] = opts.contentType ?? 'text/plain';
    body = opts.rawBody;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(`${baseUrl()}${API_PREFIX}${path}${qs(opts.query)}`, { method, headers, body, signal: opts.signal });
  if (!res.ok) {
    onUnauthorized(res);
    throw new ApiError(res.status, await problemOf(res));
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body?: unknown, query?: Query) => request<T>('POST', path, { body, query }),
  put: <T>(path: string, body?: unknown, headers?: Record<string, string>) => request<T>('PUT', path, { body, headers }),
  del: <T = void>(path: string) => request<T>('DELETE', path),
};

/** Field errors of a problem keyed by their body path (`body.a.b[0]` → `a.b[0]`); the rest under "". */
export function fieldErrors(p: Problem | undefined): { fields: Record<string, string[]>; other: string[] } {
  const fields: Record<string, string[]> = {};
  const other: string[] = [];
  for (const e of p?.errors ?? []) {
    const loc = e.location ?? '';
    const msg = e.message ?? '';
    if (loc.startsWith('body.')) {
      const k = loc.slice('body.'.length);
      (fields[k] ??= []).push(msg);
    } else other.push(loc ? `${loc}: ${msg}` : msg);
  }
  return { fields, other };
}
