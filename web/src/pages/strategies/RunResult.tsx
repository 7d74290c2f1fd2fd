// The outcome of "run now" / "dry run": one decision per cluster+pool with its reason.
import { Alert, Descriptions, Table, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import type { EvaluationDecision, EvaluationResult } from '../../api/models';
import { ResultTag } from '../../components/Tags';
import { fmtTime } from '../../lib/format';
import { useNames } from '../../lib/queries';

export function decisionsOf(r: EvaluationResult | undefined): EvaluationDecision[] {
  if (!r) return [];
  const o = r as Record<string, unknown>;
  for (const k of ['results', 'decisions', 'items', 'pools']) if (Array.isArray(o[k])) return o[k] as EvaluationDecision[];
  return [];
}

export function RunResult({ result, dryRun }: { result: EvaluationResult; dryRun: boolean }) {
  const { t } = useTranslation();
  const names = useNames();
  const rows = decisionsOf(result);
  return (
    <div data-testid="run-result">
      <Alert type={dryRun ? 'info' : 'success'} showIcon title={dryRun ? t('strategy.dryRunResult') : t('strategy.runResult')} style={{ marginBottom: 12 }} />
      {result.evaluationTime ? (
        <Descriptions size="small" column={1} style={{ marginBottom: 12 }} items={[{ key: 'T', label: 'T', children: fmtTime(result.evaluationTime) }]} />
      ) : null}
      <Typography.Title level={5}>{t('strategy.decisions')}</Typography.Title>
      <Table<EvaluationDecision>
        size="small"
        rowKey={(r, i) => `${r.clusterId}-${r.poolId}-${i}`}
        pagination={false}
        dataSource={rows}
        columns={[
          {
            title: `${t('common.cluster')} / ${t('common.pool')}`,
            render: (_, r) => `${(r.clusterName as string) || names.clusterName(r.clusterId)} / ${(r.poolName as string) || names.poolName(r.poolId)}`,
          },
          { title: t('history.result'), dataIndex: 'result', render: (v) => <ResultTag result={v} /> },
          { title: t('strategy.streak'), render: (_, r) => (r.streakDays != null ? `${r.streakDays} / ${r.requiredDays ?? '?'}` : '—') },
          { title: t('common.reason'), dataIndex: 'reason' },
          {
            title: t('nav.orders'),
            render: (_, r) => (r.orderId ? <Link to={`/orders/${r.orderId}`}>#{r.orderId}</Link> : r.deviceCount ? `${r.deviceCount}` : '—'),
          },
        ]}
      />
      {!rows.length ? <pre className="mono" style={{ whiteSpace: 'pre-wrap' }}>{JSON.stringify(result, null, 2)}</pre> : null}
    </div>
  );
}
