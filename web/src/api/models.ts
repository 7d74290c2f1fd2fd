// Types of the API's JSON. Everything the server's OpenAPI document describes
// comes from the generated schema (npm run gen:api); the types after List
// mirror DESIGN.md §4 for endpoints the server does not serve yet — replace
// each with its components['schemas'] type once gen:api brings it in.
import type { components } from './schema';

type S = components['schemas'];
export type Cluster = S['Cluster'];
export type ClusterInput = S['ClusterInput'];
export type Pool = S['Pool'];
export type PoolInput = S['PoolInput'];
export type Strategy = S['Strategy'];
export type StrategyInput = S['StrategyInput'];
export type Order = S['OrderView'];
export type OrderDevice = S['OrderDevice'];
export type Device = S['Device'];
export type Taint = S['Taint'];
export type HistoryRow = S['HistoryEntry'];
export type MatchingPolicy = S['MatchingPolicy'];
export type DailySnapshot = S['DailySnapshot'];
export type AuditEntry = S['AuditEntry'];
export type WorkbenchSummary = S['WorkbenchSummary'];
export type DeviceImportResult = S['DeviceImportResult'];
export type QueryTemplate = S['QueryTemplate'];
export type DeviceQueryResult = S['DeviceQueryResult'];
export type Notification = S['Notification'];
export type DutyEntry = S['RosterEntry'];
export type OnDuty = S['OnDuty'];
export type EvaluationResult = S['EvaluationResult'];
export type PoolDecision = S['PoolDecision'];
export type Me = S['Me'];
export type Role = Me['role'];

export interface List<T> {
  items: T[] | null;
  nextCursor?: string;
}

export type ActionType = 'pool_entry' | 'pool_exit' | 'maintenance' | 'uncordon';
export type OrderStatus =
  | 'pending'
  | 'processing'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'ignored'
  | 'maintenance_in_progress';
export type ThresholdType = 'usage' | 'allocated';







export interface Block {
  type: 'device' | 'nodeLabel' | 'taint' | '';
  key: string;
  op: string;
  value?: string;
}

export interface Group {
  logic?: 'AND' | 'OR' | '';
  blocks: Block[];
}

export interface Template {
  logic?: 'AND' | 'OR' | '';
  groups: Group[];
}
