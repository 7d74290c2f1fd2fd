// The outcome of "run now" / "dry run" (POST /evaluations): per cluster+pool the
// decision with its reason and readings, and for a triggered pool what device
// matching did (the order created, or the devices a dry run would pick).
import { Alert, Descriptions, Table, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import type { EvaluationResult, PoolDecision } from '../../api/models';
import { ResultTag } from '../../components/Tags';
import { fmtBytes, fmtTime } from '../../lib/format';

export function decisionsOf(r: EvaluationResult | undefined): PoolDecision[] {
  return (r?.strategies ?? []).flatMap((s) => s.decisions ?? []);
}

function Readings({ d }: { d: PoolDecision }) {
  const { t } = useTranslation();
  return (
    <span className="mono">
      {Object.entries(d.readings ?? {}).map(([res, r]) => (
        <div key={res}>
          {res} {t(`strategy.${r.type}`, { defaultValue: r.type })} {r.rate.toFixed(1)}% ({t('workbench.threshold')} {r.threshold}%, {t('workbench.target')} {r.target}%)
        </div>
      ))}
    </span>
  );
}

function Match({ d }: { d: PoolDecision }) {
  const { t } = useTranslation();
  const m = d.match;
  if (!m) return <>—</>;
  return (
    <div>
      <Tag color={m.shortage ? 'orange' : m.status === 'created' || m.status === 'would_create' ? 'blue' : 'default'}>
        {t(`strategy.match.${m.status}`, { defaultValue: m.status })}
      </Tag>
      {m.orderId ? <Link to={`/orders/${m.orderId}`}>{m.orderNumber || `#${m.orderId}`}</Link> : null}
      <div style={{ fontSize: 12 }}>
        {t('strategy.matchCounts', { needed: m.needed, found: m.found, chosen: m.devices?.length ?? 0 })}
      </div>
    </div>
  );
}

export function RunResult({ result }: { result: EvaluationResult }) {
  const { t } = useTranslation();
  const rows = decisionsOf(result);
  const errors = (result.strategies ?? []).filter((s) => s.error);
  return (
    <div data-testid="run-result">
      <Alert
        type={result.dryRun ? 'info' : 'success'}
        showIcon
        title={result.dryRun ? t('strategy.dryRunResult') : t('strategy.runResult')}
        description={result.dryRun ? undefined : t('strategy.ordersCreated', { n: result.ordersCreated })}
        style={{ marginBottom: 12 }}
      />
      {errors.map((s) => (
        <Alert key={s.strategyId} type="error" showIcon title={s.strategyName} description={s.error} style={{ marginBottom: 12 }} />
      ))}
      {(result.warnings ?? []).map((w) => (
        <Alert key={w} type="warning" showIcon title={w} style={{ marginBottom: 12 }} />
      ))}
      <Descriptions size="small" column={1} style={{ marginBottom: 12 }} items={[{ key: 'T', label: 'T', children: fmtTime(result.evaluationTime) }]} />
      <Typography.Title level={5}>{t('strategy.decisions')}</Typography.Title>
      <Table<PoolDecision>
        size="small"
        rowKey={(r) => `${r.clusterId}-${r.poolId}`}
        pagination={false}
        dataSource={rows}
        expandable={{
          rowExpandable: (r) => !!r.match?.devices?.length || !!r.match?.reason,
          expandedRowRender: (r) => (
            <div>
              {r.match?.reason ? <Typography.Paragraph>{r.match.reason}</Typography.Paragraph> : null}
              {r.match?.template ? (
                <Typography.Paragraph type="secondary">
                  {t('policy.queryTemplate')}: {r.match.template.name} ({r.match.template.source})
                </Typography.Paragraph>
              ) : null}
              <Table
                size="small"
                rowKey="id"
                pagination={false}
                dataSource={r.match?.devices ?? []}
                columns={[
                  { title: t('device.hostname'), dataIndex: 'hostname' },
                  { title: t('device.cpuCores'), dataIndex: 'cpuCores' },
                  { title: t('device.memory'), dataIndex: 'memoryBytes', render: fmtBytes },
                ]}
              />
            </div>
          ),
        }}
        columns={[
          { title: `${t('common.cluster')} / ${t('common.pool')}`, render: (_, r) => `${r.clusterName} / ${r.poolName} (${r.poolType})` },
          { title: t('history.result'), dataIndex: 'result', render: (v) => <ResultTag result={v} /> },
          { title: t('strategy.streak'), render: (_, r) => `${r.streakDays} / ${r.requiredDays}` },
          { title: t('common.reason'), render: (_, r) => r.error || r.reason },
          { title: t('strategy.readings'), render: (_, r) => <Readings d={r} /> },
          { title: t('strategy.matching'), render: (_, r) => <Match d={r} /> },
        ]}
      />
    </div>
  );
}
