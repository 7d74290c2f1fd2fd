// Live preview while editing: the matching devices and their count, asked of
// POST /device-query/query in preview mode after the user pauses typing.
import { Card, Statistic, Table, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { typed } from '../../api/typed';
import type { Device, DeviceQueryResult, Template } from '../../api/models';
import { ErrorAlert } from '../../components/QueryState';
import { fmtBytes } from '../../lib/format';


function useDebounced<T>(v: T, ms: number): T {
  const [d, setD] = useState(v);
  useEffect(() => {
    const h = setTimeout(() => setD(v), ms);
    return () => clearTimeout(h);
  }, [v, ms]);
  return d;
}

export function Preview({ template, valid }: { template: Template; valid: boolean }) {
  const { t } = useTranslation();
  const body = useDebounced(JSON.stringify(template), 400);
  const q = useQuery<DeviceQueryResult>({
    queryKey: ['device-query', 'preview', body],
    enabled: valid,
    placeholderData: (prev) => prev,
    retry: false,
    queryFn: ({ signal }) => queryPreview(JSON.parse(body) as Template, signal),
  });
  const count = q.data ? (q.data.countKind === 'capped' ? `${q.data.total.toLocaleString()}+` : q.data.total) : undefined;
  return (
    <Card size="small" title={t('template.preview')} data-testid="template-preview" extra={<Typography.Text type="secondary">{t('template.previewHint')}</Typography.Text>}>
      <Statistic
        title={t('template.matching')}
        value={valid && count != null ? count : '—'}
        loading={q.isFetching && q.data === undefined}
        suffix={q.data?.countKind === 'capped' ? t('template.capped') : q.data?.countKind === 'estimated' ? t('template.estimated') : undefined}
        valueStyle={{ color: q.isFetching ? '#999' : undefined }}
      />
      {q.error ? <ErrorAlert error={q.error} compact /> : null}
      {q.data?.items?.length ? (
        <Table<Device>
          style={{ marginTop: 12 }}
          size="small"
          rowKey="id"
          pagination={false}
          dataSource={q.data.items}
          scroll={{ x: 'max-content' }}
          columns={[
            { title: t('device.hostname'), dataIndex: 'hostname', className: 'nowrap' },
            { title: t('common.status'), dataIndex: 'status', render: (v) => <Tag>{t(`device.statuses.${v}`, { defaultValue: v })}</Tag> },
            { title: t('device.idc'), dataIndex: 'idc' },
            { title: 'CPU', dataIndex: 'cpuCores' },
            { title: t('device.memory'), dataIndex: 'memoryBytes', render: fmtBytes, className: 'nowrap' },
          ]}
        />
      ) : valid && q.data && !q.error ? (
        <Typography.Paragraph type="secondary" style={{ marginTop: 12 }}>
          {t('template.previewEmpty')}
        </Typography.Paragraph>
      ) : null}
    </Card>
  );
}

export function queryPreview(groups: Template, signal?: AbortSignal): Promise<DeviceQueryResult> {
  void signal;
  return typed.post('/device-query/query', { groups: groups as never, mode: 'preview', limit: 10, sort: 'id' });
}
