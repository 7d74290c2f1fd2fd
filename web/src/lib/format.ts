import dayjs from 'dayjs';

export function fmtTime(v?: string | null): string {
  if (!v) return '—';
  const d = dayjs(v);
  return d.isValid() ? d.format('YYYY-MM-DD HH:mm') : v;
}

export function fmtDay(v?: string | null): string {
  if (!v) return '—';
  const d = dayjs(v);
  return d.isValid() ? d.format('YYYY-MM-DD') : v;
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
export function fmtBytes(n?: number | null): string {
  if (n == null) return '—';
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function pct(value?: number | null, capacity?: number | null): number | null {
  if (value == null || !capacity) return null;
  return Math.round((10000 * value) / capacity) / 100;
}
