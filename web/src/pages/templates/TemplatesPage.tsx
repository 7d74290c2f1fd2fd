import { App, Button, Form, Input, Popconfirm, Space } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { typed } from '../../api/typed';
import type { QueryTemplate } from '../../api/models';
import { RoleGate, usePermissions } from '../../components/Permission';
import { CursorTable } from '../../components/CursorTable';
import { FilterBar } from '../../components/FilterBar';
import { fmtTime } from '../../lib/format';
import { keys } from '../../lib/queries';
import { parseTemplate } from '../../lib/template';
import { useTypedList } from '../../lib/useCursorList';

/** One line per group: "cpuCores gte 64 AND gpu exists". */
function summary(tpl: QueryTemplate['groups']): string[] {
  const p = parseTemplate(tpl);
  return p.groups.map((g) => g.blocks.map((b) => `${b.key} ${b.op}${b.value ? ` ${b.value}` : ''}`).join(` ${g.logic} `));
}

export default function TemplatesPage() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const perm = usePermissions();
  const [filters, setFilters] = useState<{ name?: string }>({});
  const list = useTypedList(keys.templates, '/device-query/templates', { ...filters });
  const del = useMutation({
    mutationFn: (x: QueryTemplate) => typed.del('/device-query/templates/{id}', { path: { id: x.id } }),
    onSuccess: () => {
      message.success(t('common.deleted'));
      void qc.invalidateQueries({ queryKey: keys.templates });
    },
    onError: (e) => message.error((e as Error).message),
  });
  return (
    <div>
      <div className="page-header">
        <h2>{t('nav.templates')}</h2>
        <RoleGate>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => nav('/templates/new')} data-testid="template-create">
            {t('template.create')}
          </Button>
        </RoleGate>
      </div>
      <FilterBar<{ name?: string }> onChange={setFilters}>
        <Form.Item name="name">
          <Input placeholder={t('common.name')} allowClear />
        </Form.Item>
      </FilterBar>
      <CursorTable<QueryTemplate>
        rowKey="id"
        list={list}
        columns={[
          { title: t('common.name'), dataIndex: 'name', render: (v, x) => <Link to={`/templates/${x.id}`}>{v}</Link> },
          { title: t('common.description'), dataIndex: 'description', ellipsis: true },
          {
            title: t('template.groups'),
            render: (_, x) => (
              <div className="mono">
                {summary(x.groups).map((l, i) => (
                  <div key={i}>
                    {i > 0 ? <b>{parseTemplate(x.groups).logic} </b> : null}({l})
                  </div>
                ))}
              </div>
            ),
          },
          { title: t('common.createdBy'), dataIndex: 'createdBy' },
          { title: t('common.updatedAt'), dataIndex: 'updatedAt', render: fmtTime },
          {
            title: t('common.actions'),
            render: (_, x) => (
              <Space>
                <Button size="small" onClick={() => nav(`/templates/${x.id}`)}>
                  {perm.canOperate ? t('common.edit') : t('common.detail')}
                </Button>
                <RoleGate>
                  <Popconfirm title={t('common.confirmDelete')} onConfirm={() => del.mutate(x)} okText={t('common.ok')} cancelText={t('common.cancel')}>
                    <Button size="small" danger>
                      {t('common.delete')}
                    </Button>
                  </Popconfirm>
                </RoleGate>
              </Space>
            ),
          },
        ]}
      />
    </div>
  );
}
