// The maintenance function's API (/api/v1/maintenance/…). The whole API's
// OpenAPI document (/api/v1/openapi.json) includes its operations, so its
// types come from src/api/schema.d.ts like every other call. The workbench calls these endpoints with the
// user's token, as docs/maintenance.md describes: a step taken here emits the
// maintenance.* event (notify's maintenance message with the device and
// ticket), where a plain order status change emits order.status.changed.
import { request } from './client';
import type { components, operations } from './schema';

type S = components['schemas'];
export type MaintenanceView = S['View'];
export type MaintenanceRequest = S['RequestBody'];
export type MaintenanceList = S['List'];
export type MaintenanceListQuery = NonNullable<operations['list-maintenance-requests']['parameters']['query']>;
export type MaintenanceStep = 'confirm' | 'complete' | 'cancel';

export const maintenanceApi = {
  list: (query: MaintenanceListQuery, signal?: AbortSignal) =>
    request<MaintenanceList>('GET', '/maintenance/requests', { query: query as never, signal }),
  get: (id: number) => request<MaintenanceView>('GET', `/maintenance/requests/${id}`),
  create: (body: MaintenanceRequest) => request<MaintenanceView>('POST', '/maintenance/requests', { body }),
  step: (id: number, step: MaintenanceStep, body: S['ActionBody']) =>
    request<MaintenanceView>('POST', `/maintenance/requests/${id}/${step}`, { body }),
};
