// The query template model of DESIGN.md §6 for the visual builder: which ops
// each block type/field takes, and the JSON the API receives.
import type { Block, Group, Template } from '../api/models';

export const blockTypes = ['device', 'nodeLabel', 'taint'] as const;

export interface DeviceField {
  name: string;
  numeric: boolean;
  quantity?: boolean;
  nullable?: boolean;
  values?: string[];
}

// Mirrors shared/devicequery/fields.go (the server validates; this guides the user).
export const deviceFields: DeviceField[] = [
  { name: 'hostname', numeric: false },
  { name: 'ip', numeric: false },
  { name: 'serial', numeric: false },
  { name: 'cpuArch', numeric: false },
  { name: 'gpuModel', numeric: false },
  { name: 'idc', numeric: false },
  { name: 'zone', numeric: false },
  { name: 'rack', numeric: false },
  { name: 'status', numeric: false, values: ['idle', 'in_pool', 'cordoned', 'maintenance', 'retired'] },
  { name: 'nodeName', numeric: false },
  { name: 'cpuCores', numeric: true },
  { name: 'memoryBytes', numeric: true, quantity: true },
  { name: 'gpuCount', numeric: true },
  { name: 'diskBytes', numeric: true, quantity: true },
  { name: 'clusterId', numeric: true, nullable: true },
  { name: 'poolId', numeric: true, nullable: true },
];

export const allOps = ['eq', 'ne', 'in', 'notIn', 'exists', 'notExists', 'contains', 'prefix', 'gt', 'gte', 'lt', 'lte'];
const labelOps = ['eq', 'ne', 'in', 'notIn', 'exists', 'notExists', 'contains', 'prefix'];
const taintOps = ['eq', 'ne', 'exists', 'notExists'];

/** Ops valid for a block (same rules as shared/devicequery/validate.go). */
export function opsFor(type: Block['type'], key: string): string[] {
  if (type === 'nodeLabel') return labelOps;
  if (type === 'taint') return taintOps;
  if (type === 'device') {
    const f = deviceFields.find((x) => x.name === key);
    if (!f) return allOps;
    return allOps.filter((op) => {
      switch (op) {
        case 'exists':
        case 'notExists':
          return !f.numeric || !!f.nullable;
        case 'contains':
        case 'prefix':
          return !f.numeric;
        case 'gt':
        case 'gte':
        case 'lt':
        case 'lte':
          return f.numeric;
        default:
          return true;
      }
    });
  }
  return [];
}

export function opTakesValue(op: string): boolean {
  return op !== 'exists' && op !== 'notExists';
}

export function emptyBlock(): Block {
  return { type: 'device', key: 'cpuCores', op: 'gte', value: '' };
}

export function emptyGroup(): Group {
  return { logic: 'AND', blocks: [emptyBlock()] };
}

export function emptyTemplate(): Template {
  return { logic: 'AND', groups: [emptyGroup()] };
}

/** Adjusts a block after its type or key changed so its op stays valid. */
export function fixBlock(b: Block): Block {
  const ops = opsFor(b.type, b.key);
  const op = ops.includes(b.op) ? b.op : (ops[0] ?? '');
  const out: Block = { ...b, op };
  if (!opTakesValue(op)) delete out.value;
  return out;
}

/**
 * The template JSON sent to the API: trimmed strings, logic always set,
 * no value for exists/notExists, empty groups dropped.
 */
export function toTemplateJSON(t: Template): Template {
  const groups = t.groups
    .map((g) => ({
      logic: g.logic === 'OR' ? ('OR' as const) : ('AND' as const),
      blocks: g.blocks.map((b) => {
        const out: Block = { type: b.type, key: b.key.trim(), op: b.op };
        if (opTakesValue(b.op)) out.value = (b.value ?? '').trim();
        return out;
      }),
    }))
    .filter((g) => g.blocks.length > 0);
  return { logic: t.logic === 'OR' ? 'OR' : 'AND', groups };
}

/** Client-side problems, located like the API's (groups[0].blocks[1].value). */
export function validateTemplate(t: Template): { path: string; code: string }[] {
  const errs: { path: string; code: string }[] = [];
  if (!t.groups.length) errs.push({ path: 'groups', code: 'noGroups' });
  t.groups.forEach((g, gi) => {
    if (!g.blocks.length) errs.push({ path: `groups[${gi}].blocks`, code: 'noBlocks' });
    g.blocks.forEach((b, bi) => {
      const p = `groups[${gi}].blocks[${bi}]`;
      if (!b.type) errs.push({ path: `${p}.type`, code: 'required' });
      if (!b.key.trim()) errs.push({ path: `${p}.key`, code: 'required' });
      if (!opsFor(b.type, b.key).includes(b.op)) errs.push({ path: `${p}.op`, code: 'badOp' });
      else if (opTakesValue(b.op) && b.type !== 'taint' && !(b.value ?? '').trim())
        errs.push({ path: `${p}.value`, code: 'required' });
      else if (b.type === 'device' && ['gt', 'gte', 'lt', 'lte'].includes(b.op)) {
        const f = deviceFields.find((x) => x.name === b.key);
        const v = (b.value ?? '').trim();
        const ok = f?.quantity ? /^\d+(\.\d+)?([KMGTPE]i?)?$/.test(v) : /^-?\d+$/.test(v);
        if (!ok) errs.push({ path: `${p}.value`, code: 'number' });
      }
    });
  });
  return errs;
}

/** Reads a template that may arrive as JSON text or an object. */
export function parseTemplate(v: unknown): Template {
  let o = v;
  if (typeof o === 'string') {
    try {
      o = JSON.parse(o);
    } catch {
      return emptyTemplate();
    }
  }
  const t = o as Partial<Template> | null;
  if (!t || !Array.isArray(t.groups)) return emptyTemplate();
  return {
    logic: t.logic === 'OR' ? 'OR' : 'AND',
    groups: t.groups.map((g) => ({
      logic: g?.logic === 'OR' ? 'OR' : 'AND',
      blocks: (g?.blocks ?? []).map((b) => ({ type: b.type, key: b.key ?? '', op: b.op ?? '', value: b.value })),
    })),
  };
}
