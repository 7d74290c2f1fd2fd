// What a role may do, mirroring shared/httpapi.RequiredRole and the
// operations that ask for more (functions/orders): reads need viewer, writes
// operator, and clusters (create/update/delete, credentials, test
// connection) and deleting a device need admin. The server enforces it; the
// UI only hides or disables what would be refused with a 403.
import type { Role } from '../api/models';

const rank: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** Whether role (null: not known yet) holds at least need. */
export function allows(role: Role | null | undefined, need: Role): boolean {
  return !!role && rank[role] >= rank[need];
}

/** Writes: orders' steps and operations, strategies, templates, policies, devices, pools, roster, maintenance, evaluations. */
export const canOperate = (role: Role | null | undefined) => allows(role, 'operator');

/** Clusters and their credentials, deleting devices. */
export const canAdmin = (role: Role | null | undefined) => allows(role, 'admin');
