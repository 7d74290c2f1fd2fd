// Maps an API problem's field errors (location "body.groups[1].blocks[0].op")
// onto antd Form fields (name path ['groups', 1, 'blocks', 0, 'op']).
import type { FormInstance } from 'antd';
import { ApiError, type Problem } from '../api/client';

export type NamePath = (string | number)[];

/** "a.b[2].c" → ['a', 'b', 2, 'c']. */
export function toNamePath(path: string): NamePath {
  const out: NamePath = [];
  for (const part of path.split('.')) {
    const re = /([^[\]]+)|\[(\d+)\]/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(part))) {
      if (m[1] !== undefined) out.push(m[1]);
      else out.push(Number(m[2]));
    }
  }
  return out;
}

export interface MappedErrors {
  fields: { name: NamePath; errors: string[] }[];
  /** Messages that name no field of the form (shown above it). */
  unmapped: string[];
}

/**
 * Splits a problem into per-field errors and the rest. `known` says whether a
 * name path is a field of the form; `rename` maps API paths to form paths
 * (e.g. a template's groups nested under another name).
 */
export function mapProblem(
  problem: Problem | undefined,
  known: (name: NamePath) => boolean,
  rename: (name: NamePath) => NamePath = (n) => n,
): MappedErrors {
  const byKey = new Map<string, { name: NamePath; errors: string[] }>();
  const unmapped: string[] = [];
  for (const e of problem?.errors ?? []) {
    const loc = e.location ?? '';
    const msg = e.message ?? '';
    if (loc.startsWith('body.')) {
      const name = rename(toNamePath(loc.slice(5)));
      if (known(name)) {
        const k = JSON.stringify(name);
        const cur = byKey.get(k) ?? { name, errors: [] };
        cur.errors.push(msg);
        byKey.set(k, cur);
        continue;
      }
    }
    unmapped.push(loc ? `${loc.replace(/^body\./, '')}: ${msg}` : msg);
  }
  if (!problem?.errors?.length && problem) {
    const d = problem.detail || problem.title;
    if (d) unmapped.push(d);
  }
  return { fields: [...byKey.values()], unmapped };
}

/** Applies an error thrown by the API to form; returns what it could not place. */
export function applyApiError(form: FormInstance, err: unknown, rename?: (n: NamePath) => NamePath): string[] {
  if (!(err instanceof ApiError)) return [err instanceof Error ? err.message : String(err)];
  const registered = new Set(form.getFieldsError().map((f) => JSON.stringify(f.name)));
  const { fields, unmapped } = mapProblem(err.problem, (n) => registered.has(JSON.stringify(n)), rename);
  if (fields.length) form.setFields(fields);
  return unmapped;
}
