// "Why did / didn't this pool trigger": the reason, the rules, and the
// per-day rates of the window with which days met the condition
// (the observed/thresholds JSON of an execution history row or a decision).
import { Descriptions, Table, Tag, Typography } from 'antd';
import { CheckCircleTwoTone, CloseCircleTwoTone, MinusCircleOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import { fmtTime } from '../lib/format';

interface DayRates {
  date: string;
  snapshot?: boolean;
  met?: boolean;
  rates?: Record<string, number | null> | null;
  unjudged?: Record<string, string> | null;
}
interface Rule {
  resource: string;
  type: string;
  threshold: number;
  target: number;
}

interface DaySeries {
  met: boolean[];
  cpu?: (number | null)[];
  memory?: (number | null)[];
  unjudged?: { date: string; resource: string; why: string }[] | null;
}

/**
 * The window's days as rows. The pipeline stores them as columns
 * (shared/pipeline DaySeries: day i is windowStart + i); a list of day
 * objects is read as is.
 */
export function daysOf(obs: { windowStart?: string; days?: DayRates[] | DaySeries | null }): DayRates[] {
  const d = obs.days;
  if (!d) return [];
  if (Array.isArray(d)) return d;
  if (!obs.windowStart || !Array.isArray(d.met)) return [];
  return d.met.map((met, i) => {
    const date = dayjs(obs.windowStart).add(i, 'day').format('YYYY-MM-DD');
    const rates: Record<string, number | null> = {};
    if (d.cpu) rates.cpu = d.cpu[i] ?? null;
    if (d.memory) rates.memory = d.memory[i] ?? null;
    const unjudged: Record<string, string> = {};
    for (const u of d.unjudged ?? []) if (u.date === date) unjudged[u.resource] = u.why;
    const snapshot = Object.values(rates).some((v) => v != null) || Object.keys(unjudged).length > 0;
    return { date, met, snapshot, rates, unjudged };
  });
}

export function WhyDetail({ reason, observed, thresholds }: { reason?: string; observed?: unknown; thresholds?: unknown }) {
  const { t } = useTranslation();
  const obs = (observed ?? {}) as { windowStart?: string; windowEnd?: string; days?: DayRates[] | DaySeries | null; cooldownUntil?: string | null; match?: { reason?: string } };
  const days = daysOf(obs);
  const th = (thresholds ?? {}) as { action?: string; conditionLogic?: string; requiredDays?: number; rules?: Rule[] | null };
  const rules = th.rules ?? [];
  const resources = rules.length ? rules.map((r) => r.resource) : [...new Set(days.flatMap((d) => Object.keys(d.rates ?? {})))];
  const cmp = th.action === 'pool_exit' ? '<' : '>';
  return (
    // A fixed width: inside an expanded row of a max-content table, content
    // that sizes itself to the table would widen it without end.
    <div style={{ padding: '4px 8px', width: 'min(960px, 75vw)', whiteSpace: 'normal' }} data-testid="why">
      <Descriptions
        size="small"
        column={1}
        items={[
          { key: 'reason', label: t('history.reason'), children: reason || '—' },
          {
            key: 'rules',
            label: t('strategy.thresholds'),
            children: rules.length ? (
              <span className="mono">
                {rules
                  .map((r) => `${r.resource} ${t(`strategy.${r.type}`, { defaultValue: r.type })} ${cmp} ${r.threshold}% → ${r.target}%`)
                  .join(` ${th.conditionLogic ?? 'AND'} `)}
                {th.requiredDays ? ` · ${th.requiredDays} ${t('workbench.days')}` : ''}
              </span>
            ) : (
              '—'
            ),
          },
          ...(obs.windowStart ? [{ key: 'w', label: t('history.window'), children: `${obs.windowStart} – ${obs.windowEnd ?? ''}` }] : []),
          ...(obs.cooldownUntil ? [{ key: 'c', label: t('history.cooldownUntil'), children: fmtTime(obs.cooldownUntil) }] : []),
          ...(obs.match?.reason ? [{ key: 'm', label: t('history.match'), children: obs.match.reason }] : []),
        ]}
      />
      {days.length ? (
        <Table<DayRates>
          size="small"
          pagination={false}
          rowKey="date"
          dataSource={days}
          columns={[
            { title: t('history.day'), dataIndex: 'date' },
            ...resources.map((r) => ({
              title: `${r} %`,
              key: r,
              render: (_: unknown, d: DayRates) => {
                const v = d.rates?.[r];
                if (d.unjudged?.[r]) return <Typography.Text type="secondary">{d.unjudged[r]}</Typography.Text>;
                return v == null ? '—' : v.toFixed(1);
              },
            })),
            {
              title: t('history.met'),
              dataIndex: 'met',
              render: (met: boolean, d: DayRates) =>
                !d.snapshot ? (
                  <Tag icon={<MinusCircleOutlined />}>{t('history.noSnapshot')}</Tag>
                ) : met ? (
                  <CheckCircleTwoTone twoToneColor="#cf1322" />
                ) : (
                  <CloseCircleTwoTone twoToneColor="#52c41a" />
                ),
            },
          ]}
        />
      ) : null}
    </div>
  );
}
