// "Why did / didn't this pool trigger": the reason, the rules, and the
// per-day rates of the window with which days met the condition
// (the observed/thresholds JSON of an execution history row or a decision).
import { Descriptions, Table, Tag, Typography } from 'antd';
import { CheckCircleTwoTone, CloseCircleTwoTone, MinusCircleOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
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

export function WhyDetail({ reason, observed, thresholds }: { reason?: string; observed?: unknown; thresholds?: unknown }) {
  const { t } = useTranslation();
  const obs = (observed ?? {}) as { windowStart?: string; windowEnd?: string; days?: DayRates[] | null; cooldownUntil?: string | null; match?: { reason?: string } };
  const th = (thresholds ?? {}) as { action?: string; conditionLogic?: string; requiredDays?: number; rules?: Rule[] | null };
  const rules = th.rules ?? [];
  const resources = rules.length ? rules.map((r) => r.resource) : [...new Set((obs.days ?? []).flatMap((d) => Object.keys(d.rates ?? {})))];
  const cmp = th.action === 'pool_exit' ? '<' : '>';
  return (
    <div style={{ padding: '4px 8px' }} data-testid="why">
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
      {obs.days?.length ? (
        <Table<DayRates>
          size="small"
          pagination={false}
          rowKey="date"
          dataSource={obs.days}
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
