// 资源池设备匹配策略: which query template matches devices for a pool type and action.
import { App, Button, Form, Input, Popconfirm, Radio, Select, Space, Switch } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { typed } from '../../api/typed';
import type { MatchingPolicy } from '../../api/models';
import type { PostBody } from '../../api/typed';
import { RoleGate } from '../../components/Permission';
import { CursorTable } from '../../components/CursorTable';
import { FilterBar } from '../../components/FilterBar';
import { FormModal } from '../../components/FormModal';
import { ActionTag, EnabledTag } from '../../components/Tags';
import { fmtTime } from '../../lib/format';
import { keys, usePools, useTemplates } from '../../lib/queries';
import { useTypedList } from '../../lib/useCursorList';

interface Filters {
  name?: string;
  resourcePoolType?: string;
  actionType?: 'pool_entry' | 'pool_exit';
  status?: 'enabled' | 'disabled';
}

type Values = PostBody<'/resource-pool/matching-policies'>;

export default function PoliciesPage() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const templates = useTemplates();
  const pools = usePools();
  const poolTypes = [...new Set((pools.data ?? []).map((p) => p.poolType))].sort();
  const [filters, setFilters] = useState<Filters>({});
  const list = useTypedList(keys.policies, '/resource-pool/matching-policies', { ...filters });
  const [editing, setEditing] = useState<MatchingPolicy | 'new' | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: keys.policies });

  const setStatus = useMutation({
    mutationFn: (p: MatchingPolicy) =>
      typed.put(
        '/resource-pool/matching-policies/{id}/status',
        { status: p.status === 'enabled' ? 'disabled' : 'enabled', version: p.version },
        { path: { id: p.id } },
      ),
    onSuccess: refresh,
    onError: (e) => message.error((e as Error).message),
  });
  const del = useMutation({
    mutationFn: (p: MatchingPolicy) => typed.del('/resource-pool/matching-policies/{id}', { path: { id: p.id } }),
    onSuccess: () => {
      message.success(t('common.deleted'));
      void refresh();
    },
    onError: (e) => message.error((e as Error).message),
  });

  const current = editing && editing !== 'new' ? editing : undefined;
  return (
    <div>
      <div className="page-header">
        <h2>{t('nav.policies')}</h2>
        <RoleGate>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="policy-create">
            {t('policy.create')}
          </Button>
        </RoleGate>
      </div>
      <FilterBar<Filters> onChange={setFilters}>
        <Form.Item name="name">
          <Input placeholder={t('common.name')} allowClear />
        </Form.Item>
        <Form.Item name="resourcePoolType">
          <Select allowClear placeholder={t('policy.resourcePoolType')} style={{ width: 150 }} options={poolTypes.map((p) => ({ value: p, label: p }))} />
        </Form.Item>
        <Form.Item name="actionType">
          <Select
            allowClear
            placeholder={t('policy.actionType')}
            style={{ width: 130 }}
            options={['pool_entry', 'pool_exit'].map((a) => ({ value: a, label: t(`action.${a}`) }))}
          />
        </Form.Item>
        <Form.Item name="status">
          <Select allowClear placeholder={t('common.status')} style={{ width: 120 }} options={['enabled', 'disabled'].map((a) => ({ value: a, label: t(`common.${a}`) }))} />
        </Form.Item>
      </FilterBar>
      <CursorTable<MatchingPolicy>
        rowKey="id"
        list={list}
        columns={[
          { title: t('common.name'), dataIndex: 'name' },
          { title: t('policy.resourcePoolType'), dataIndex: 'resourcePoolType' },
          { title: t('policy.actionType'), dataIndex: 'actionType', render: (v) => <ActionTag action={v} /> },
          {
            title: t('policy.queryTemplate'),
            dataIndex: 'queryTemplateId',
            render: (v, p) => <Link to={`/templates/${v}`}>{p.queryTemplateName || templates.data?.find((x) => x.id === v)?.name || `#${v}`}</Link>,
          },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (v, p) => (
              <Space>
                <RoleGate>
                  <Switch size="small" checked={v === 'enabled'} onChange={() => setStatus.mutate(p)} />
                </RoleGate>
                <EnabledTag status={v} />
              </Space>
            ),
          },
          { title: t('common.description'), dataIndex: 'description', ellipsis: true },
          { title: t('common.updatedAt'), dataIndex: 'updatedAt', render: fmtTime },
          {
            title: t('common.actions'),
            render: (_, p) => (
              <Space>
                <RoleGate>
                  <Button size="small" onClick={() => setEditing(p)}>
                    {t('common.edit')}
                  </Button>
                </RoleGate>
                <RoleGate>
                  <Popconfirm title={t('common.confirmDelete')} onConfirm={() => del.mutate(p)} okText={t('common.ok')} cancelText={t('common.cancel')}>
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
      <FormModal<Values>
        open={!!editing}
        testId="policy-form"
        title={current ? t('policy.editTitle') : t('policy.createTitle')}
        initial={current ?? { actionType: 'pool_entry', status: 'enabled' }}
        onClose={() => setEditing(null)}
        onSubmit={async (v) => {
          const body = { ...v, description: v.description ?? '' };
          if (current) await typed.put('/resource-pool/matching-policies/{id}', { ...body, version: current.version }, { path: { id: current.id } });
          else await typed.post('/resource-pool/matching-policies', body);
          message.success(t('common.saved'));
          await refresh();
        }}
      >
        {() => (
          <>
            <Form.Item name="name" label={t('common.name')} rules={[{ required: true, whitespace: true }]}>
              <Input data-testid="policy-name" />
            </Form.Item>
            <Form.Item name="description" label={t('common.description')}>
              <Input.TextArea rows={2} />
            </Form.Item>
            <Form.Item name="resourcePoolType" label={t('policy.resourcePoolType')} rules={[{ required: true }]}>
              <Select
                showSearch
                data-testid="policy-pooltype"
                options={poolTypes.map((p) => ({ value: p, label: p }))}
              />
            </Form.Item>
            <Form.Item name="actionType" label={t('policy.actionType')} rules={[{ required: true }]}>
              <Radio.Group
                optionType="button"
                options={['pool_entry', 'pool_exit'].map((a) => ({ value: a, label: t(`action.${a}`) }))}
              />
            </Form.Item>
            <Form.Item name="queryTemplateId" label={t('policy.queryTemplate')} rules={[{ required: true }]}>
              <Select showSearch optionFilterProp="label" data-testid="policy-template" options={(templates.data ?? []).map((x) => ({ value: x.id, label: x.name }))} />
            </Form.Item>
            <Form.Item name="status" label={t('common.status')}>
              <Radio.Group
                optionType="button"
                options={['enabled', 'disabled'].map((a) => ({ value: a, label: t(`common.${a}`) }))}
              />
            </Form.Item>
          </>
        )}
      </FormModal>
    </div>
  );
}
