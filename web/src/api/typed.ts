// Requests checked against the generated schema: the path (as written in the
// OpenAPI document, e.g. '/elastic-scaling/orders/{id}'), its path and query
// parameters, the body and the response type all come from src/api/schema.d.ts,
// so a renamed field or a query parameter the server does not take (it
// rejects unknown ones) fails `tsc`, not a user.
import { request } from './client';
import type { paths } from './schema';

type Prefix = '/api/v1';
type Method = 'get' | 'post' | 'put' | 'delete';
type Full<P extends string> = `${Prefix}${P}`;

/** Paths (without /api/v1) that have method M. */
export type PathOf<M extends Method> = {
  [K in keyof paths]: K extends Full<infer P> ? (paths[K] extends { [X in M]: { responses: unknown } } ? P : never) : never;
}[keyof paths];

type Op<P extends string, M extends Method> = Full<P> extends keyof paths ? (paths[Full<P>] extends { [X in M]: infer O } ? O : never) : never;

type Params<O> = O extends { parameters: infer Pa } ? Pa : never;
export type QueryOf<O> = Params<O> extends { query?: infer Q } ? Exclude<Q, undefined> : never;
type PathParamsOf<O> = Params<O> extends { path: infer X } ? X : never;
type BodyOf<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type Json<R> = R extends { content: { 'application/json': infer J } } ? J : void;
export type ResponseOf<O> = O extends { responses: infer R }
  ? R extends { 200: infer X }
    ? Json<X>
    : R extends { 201: infer X }
      ? Json<X>
      : void
  : never;

interface Opts<O> {
  path?: PathParamsOf<O>;
  query?: QueryOf<O>;
  signal?: AbortSignal;
}

function fill(path: string, params?: object): string {
  return path.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(String((params as Record<string, unknown> | undefined)?.[k] ?? '')));
}

export type GetResult<P extends PathOf<'get'>> = ResponseOf<Op<P, 'get'>>;
export type GetQuery<P extends PathOf<'get'>> = QueryOf<Op<P, 'get'>>;
export type PostBody<P extends PathOf<'post'>> = BodyOf<Op<P, 'post'>>;
export type PutBody<P extends PathOf<'put'>> = BodyOf<Op<P, 'put'>>;

export const typed = {
  get<P extends PathOf<'get'>>(path: P, o: Opts<Op<P, 'get'>> = {}) {
    return request<ResponseOf<Op<P, 'get'>>>('GET', fill(path, o.path as object), { query: o.query as never, signal: o.signal });
  },
  post<P extends PathOf<'post'>>(path: P, body: BodyOf<Op<P, 'post'>>, o: Opts<Op<P, 'post'>> = {}) {
    return request<ResponseOf<Op<P, 'post'>>>('POST', fill(path, o.path as object), { body, query: o.query as never });
  },
  put<P extends PathOf<'put'>>(path: P, body: BodyOf<Op<P, 'put'>>, o: Opts<Op<P, 'put'>> = {}) {
    return request<ResponseOf<Op<P, 'put'>>>('PUT', fill(path, o.path as object), { body, query: o.query as never });
  },
  del<P extends PathOf<'delete'>>(path: P, o: Opts<Op<P, 'delete'>> = {}) {
    return request<void>('DELETE', fill(path, o.path as object), { query: o.query as never });
  },
};
