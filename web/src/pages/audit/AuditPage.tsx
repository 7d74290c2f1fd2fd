// 审计日志: who changed what, when.
import { Form, Input, Select, Tag } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AuditEntry } from '../../api/models';
import { CursorTable } from '../../components/CursorTable';
import { FilterBar } from '../../components/FilterBar';
import { fmtTime } from '../../lib/format';
import { keys } from '../../lib/queries';
import { useTypedList } from '../../lib/useCursorList';

interface Filters {
  targetType?: string;
  targetId?: string;
  actor?: string;
}

export default function AuditPage() {
  const { t } = useTranslation();
  const [filters, setFilters] = useState<Filters>({});
  const list = useTypedList(keys.audit, '/audit-log', { ...filters });
  return (
    <div>
      <div className="page-header">
        <h2>{t('nav.audit')}</h2>
      </div>
      <FilterBar<Filters> onChange={setFilters}>
        <Form.Item name="targetType">
          <Select
            allowClear
            placeholder={t('audit.targetType')}
            style={{ width: 150 }}
            options={['order', 'strategy', 'cluster', 'pool', 'device', 'query_template', 'matching_policy'].map((x) => ({ value: x, label: x }))}
          />
        </Form.Item>
        <Form.Item name="targetId">
          <Input placeholder={t('audit.targetId')} allowClear style={{ width: 120 }} />
        </Form.Item>
        <Form.Item name="actor">
          <Input placeholder={t('order.auditActor')} allowClear style={{ width: 140 }} />
        </Form.Item>
      </FilterBar>
      <CursorTable<AuditEntry>
        rowKey="id"
        list={list}
        expandable={{
          expandedRowRender: (a) => (
            <pre className="mono" style={{ whiteSpace: 'pre-wrap', margin: 0 }}>
              {JSON.stringify({ before: a.before, after: a.after }, null, 2)}
            </pre>
          ),
        }}
        columns={[
          { title: t('order.auditAt'), dataIndex: 'at', render: fmtTime },
          { title: t('order.auditActor'), dataIndex: 'actor' },
          { title: t('order.auditAction'), dataIndex: 'action', render: (v) => <Tag>{v}</Tag> },
          { title: t('audit.targetType'), dataIndex: 'targetType' },
          { title: t('audit.targetId'), dataIndex: 'targetId' },
          { title: t('audit.requestId'), dataIndex: 'requestId', render: (v) => <span className="mono">{v}</span> },
        ]}
      />
    </div>
  );
}
