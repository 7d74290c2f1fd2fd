import { describe, expect, it } from 'vitest';
import { allows, canAdmin, canOperate } from './permissions';

describe('permissions', () => {
  const cases = [
    { role: null, operate: false, admin: false },
    { role: 'viewer', operate: false, admin: false },
    { role: 'operator', operate: true, admin: false },
    { role: 'admin', operate: true, admin: true },
  ] as const;
  for (const c of cases) {
    it(`${c.role ?? 'unknown'}`, () => {
      expect(canOperate(c.role)).toBe(c.operate);
      expect(canAdmin(c.role)).toBe(c.admin);
      expect(allows(c.role, 'viewer')).toBe(c.role !== null);
    });
  }
});
