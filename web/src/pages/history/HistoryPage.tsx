// 策略执行历史: one row per evaluated cluster+pool — why a pool did or didn't trigger.
import { DatePicker, Form, Select } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import type { HistoryRow } from '../../api/models';
import { CursorTable } from '../../components/CursorTable';
import { FilterBar } from '../../components/FilterBar';
import { ActionTag, ResultTag } from '../../components/Tags';
import { WhyDetail } from '../../components/WhyDetail';
import { fmtTime } from '../../lib/format';
import { keys, useNames, useStrategies } from '../../lib/queries';
import { useTypedList } from '../../lib/useCursorList';

interface Filters {
  strategyId?: number;
  clusterId?: number;
  poolId?: number;
  result?: HistoryRow['result'];
  range?: [Dayjs, Dayjs];
}

const results = ['triggered', 'not_met', 'cooldown', 'no_data', 'error'];

export default function HistoryPage() {
  const { t } = useTranslation();
  const names = useNames();
  const strategies = useStrategies();
  const [params] = useSearchParams();
  const initial: Filters = params.get('result') ? { result: params.get('result') as HistoryRow['result'] } : {};
  const [filters, setFilters] = useState<Filters>(initial);
  const { range, ...rest } = filters;
  const list = useTypedList(keys.history, '/elastic-scaling/history', {
    ...rest,
    from: range?.[0]?.startOf('day').toISOString(),
    to: range?.[1]?.endOf('day').toISOString(),
  });
  return (
    <div>
      <div className="page-header">
        <h2>{t('nav.history')}</h2>
      </div>
      <FilterBar<Filters> onChange={setFilters} initial={initial}>
        <Form.Item name="strategyId">
          <Select
            allowClear
            placeholder={t('common.strategy')}
            style={{ width: 180 }}
            options={(strategies.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
          />
        </Form.Item>
        <Form.Item name="clusterId">
          <Select allowClear placeholder={t('common.cluster')} style={{ width: 150 }} options={(names.clusters.data ?? []).map((c) => ({ value: c.id, label: c.displayName || c.name }))} />
        </Form.Item>
        <Form.Item name="poolId">
          <Select
            allowClear
            placeholder={t('common.pool')}
            style={{ width: 170 }}
            options={(names.pools.data ?? []).map((p) => ({ value: p.id, label: `${names.clusterName(p.clusterId)} / ${p.name}` }))}
          />
        </Form.Item>
        <Form.Item name="result">
          <Select allowClear placeholder={t('history.result')} style={{ width: 120 }} options={results.map((r) => ({ value: r, label: t(`history.results.${r}`) }))} />
        </Form.Item>
        <Form.Item name="range">
          <DatePicker.RangePicker />
        </Form.Item>
      </FilterBar>
      <CursorTable<HistoryRow>
        rowKey="id"
        list={list}
        // A fixed width, not max-content: the reason column's ellipsis needs its width kept.
        scroll={{ x: 1100 }}
        expandable={{ expandedRowRender: (r) => <WhyDetail reason={r.reason || r.error} observed={r.observed} thresholds={r.thresholds} /> }}
        columns={[
          { title: t('history.evaluatedAt'), dataIndex: 'evaluatedAt', render: fmtTime },
          { title: t('common.strategy'), dataIndex: 'strategyName', render: (v, r) => <Link to={`/strategies/${r.strategyId}`}>{v || `#${r.strategyId}`}</Link> },
          { title: `${t('common.cluster')} / ${t('common.pool')}`, render: (_, r) => `${r.clusterName || names.clusterName(r.clusterId)} / ${r.poolName || names.poolName(r.poolId)}` },
          { title: t('order.actionType'), dataIndex: 'action', render: (v) => (v ? <ActionTag action={v} /> : '—') },
          { title: t('history.result'), dataIndex: 'result', render: (v) => <ResultTag result={v} /> },
          { title: t('history.streak'), render: (_, r) => `${r.streakDays ?? 0} / ${r.requiredDays ?? '?'}` },
          { title: t('history.reason'), dataIndex: 'reason', width: 340, ellipsis: { showTitle: true }, render: (v, r) => v || r.error },
          { title: t('nav.orders'), dataIndex: 'orderId', render: (v) => (v ? <Link to={`/orders/${v}`}>#{v}</Link> : '') },
        ]}
      />
    </div>
  );
}
