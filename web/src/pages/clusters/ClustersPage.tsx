// 集群与资源池: clusters and their pools (typed client: these paths are in the schema).
import { App, Button, Col, Form, Input, InputNumber, Popconfirm, Row, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { client, unwrap } from '../../api/client';
import type { Cluster, ClusterInput, Pool, PoolInput } from '../../api/models';
import { RoleGate } from '../../components/Permission';
import { FormModal } from '../../components/FormModal';
import { QueryState } from '../../components/QueryState';
import { fmtTime } from '../../lib/format';
import { keys, useClusters, usePools } from '../../lib/queries';

export default function ClustersPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const clusters = useClusters();
  const pools = usePools();
  const [editCluster, setEditCluster] = useState<Cluster | 'new' | null>(null);
  const [editPool, setEditPool] = useState<{ cluster: Cluster; pool?: Pool } | null>(null);
  const refresh = async () => {
    await qc.invalidateQueries({ queryKey: keys.clusters });
    await qc.invalidateQueries({ queryKey: keys.pools });
  };
  const delCluster = useMutation({
    mutationFn: (c: Cluster) => unwrap(client.DELETE('/api/v1/clusters/{id}', { params: { path: { id: c.id } } })),
    onSuccess: refresh,
    onError: (e) => message.error((e as Error).message),
  });
  const delPool = useMutation({
    mutationFn: (p: Pool) => unwrap(client.DELETE('/api/v1/pools/{id}', { params: { path: { id: p.id } } })),
    onSuccess: refresh,
    onError: (e) => message.error((e as Error).message),
  });
  const current = editCluster && editCluster !== 'new' ? editCluster : undefined;

  const poolTable = (c: Cluster) => {
    const rows = (pools.data ?? []).filter((p) => p.clusterId === c.id);
    return (
      <div style={{ padding: '4px 0 4px 24px' }}>
        <Space style={{ marginBottom: 8 }}>
          <Typography.Text strong>{t('cluster.pools')}</Typography.Text>
          <RoleGate>
            <Button size="small" icon={<PlusOutlined />} onClick={() => setEditPool({ cluster: c })} data-testid={`pool-create-${c.name}`}>
              {t('cluster.addPool')}
            </Button>
          </RoleGate>
        </Space>
        <Table<Pool>
          size="small"
          rowKey="id"
          pagination={false}
          dataSource={rows}
          locale={{ emptyText: t('common.empty') }}
          columns={[
            { title: t('common.name'), dataIndex: 'name' },
            { title: t('cluster.poolType'), dataIndex: 'poolType', render: (v) => <Tag color="blue">{v}</Tag> },
            { title: t('cluster.nodeSelector'), dataIndex: 'nodeSelector', render: (v) => <span className="mono">{v || '—'}</span> },
            { title: t('cluster.minNodes'), dataIndex: 'minNodes' },
            { title: t('cluster.maxNodes'), dataIndex: 'maxNodes', render: (v) => v ?? '—' },
            {
              title: t('common.actions'),
              render: (_, p) => (
                <Space>
                  <RoleGate>
                    <Button size="small" onClick={() => setEditPool({ cluster: c, pool: p })}>
                      {t('common.edit')}
                    </Button>
                  </RoleGate>
                  <RoleGate>
                    <Popconfirm title={t('common.confirmDelete')} onConfirm={() => delPool.mutate(p)} okText={t('common.ok')} cancelText={t('common.cancel')}>
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
  };

  return (
    <div>
      <div className="page-header">
        <h2>{t('nav.clusters')}</h2>
        <RoleGate need="admin">
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditCluster('new')} data-testid="cluster-create">
            {t('cluster.create')}
          </Button>
        </RoleGate>
      </div>
      <QueryState loading={clusters.isLoading} error={clusters.error} empty={!clusters.data?.length} onRetry={() => clusters.refetch()}>
        <Table<Cluster>
          rowKey="id"
          pagination={false}
          dataSource={clusters.data ?? []}
          expandable={{ expandedRowRender: poolTable, defaultExpandAllRows: true }}
          columns={[
            { title: t('common.name'), dataIndex: 'name', render: (v, c) => <span>{v} {c.displayName ? <Typography.Text type="secondary">({c.displayName})</Typography.Text> : null}</span> },
            { title: t('cluster.region'), render: (_, c) => [c.region, c.zone].filter(Boolean).join(' / ') || '—' },
            { title: t('device.idc'), dataIndex: 'idc' },
            { title: t('cluster.pools'), render: (_, c) => (pools.data ?? []).filter((p) => p.clusterId === c.id).length },
            { title: t('common.status'), dataIndex: 'status', render: (v) => <Tag color={v === 'active' ? 'green' : 'default'}>{v === 'active' ? t('cluster.active') : t('common.disabled')}</Tag> },
            { title: t('common.updatedAt'), dataIndex: 'updatedAt', render: fmtTime },
            {
              title: t('common.actions'),
              render: (_, c) => (
                <Space>
                  <RoleGate need="admin">
                    <Button size="small" onClick={() => setEditCluster(c)}>
                      {t('common.edit')}
                    </Button>
                  </RoleGate>
                  <RoleGate need="admin">
                    <Popconfirm title={t('common.confirmDelete')} onConfirm={() => delCluster.mutate(c)} okText={t('common.ok')} cancelText={t('common.cancel')}>
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
      </QueryState>

      <FormModal<ClusterInput>
        open={!!editCluster}
        testId="cluster-form"
        title={current ? t('cluster.editTitle') : t('cluster.create')}
        initial={current ? { ...current } : { status: 'active' }}
        onClose={() => setEditCluster(null)}
        onSubmit={async (v) => {
          const body: ClusterInput = {
            name: v.name,
            displayName: v.displayName ?? '',
            region: v.region ?? '',
            zone: v.zone ?? '',
            idc: v.idc ?? '',
            apiEndpoint: v.apiEndpoint || undefined,
            status: v.status,
          };
          if (current) await unwrap(client.PUT('/api/v1/clusters/{id}', { params: { path: { id: current.id } }, body: { ...body, version: current.version } }));
          else await unwrap(client.POST('/api/v1/clusters', { body }));
          message.success(t('common.saved'));
          await refresh();
        }}
      >
        {() => (
          <>
            <Row gutter={12}>
              <Col span={12}>
                <Form.Item name="name" label={t('common.name')} rules={[{ required: true }]}>
                  <Input placeholder="bj-prod-1" data-testid="cluster-name" />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name="displayName" label={t('cluster.displayName')}>
                  <Input />
                </Form.Item>
              </Col>
            </Row>
            <Row gutter={12}>
              <Col span={8}>
                <Form.Item name="region" label={t('cluster.region')}>
                  <Input />
                </Form.Item>
              </Col>
              <Col span={8}>
                <Form.Item name="zone" label={t('device.zone')}>
                  <Input />
                </Form.Item>
              </Col>
              <Col span={8}>
                <Form.Item name="idc" label={t('device.idc')}>
                  <Input data-testid="cluster-idc" />
                </Form.Item>
              </Col>
            </Row>
            <Form.Item name="apiEndpoint" label={t('cluster.apiEndpoint')}>
              <Input placeholder="https://k8s.example:6443" />
            </Form.Item>
          </>
        )}
      </FormModal>

      <FormModal<PoolInput & { minNodes?: number; maxNodes?: number }>
        open={!!editPool}
        testId="pool-form"
        title={editPool?.pool ? t('cluster.editPool') : `${t('cluster.addPool')} · ${editPool?.cluster.name ?? ''}`}
        initial={editPool?.pool ? { ...editPool.pool, maxNodes: editPool.pool.maxNodes ?? undefined } : { minNodes: 1 }}
        onClose={() => setEditPool(null)}
        onSubmit={async (v) => {
          const body: PoolInput = {
            name: v.name,
            poolType: v.poolType,
            nodeSelector: v.nodeSelector ?? '',
            minNodes: v.minNodes ?? undefined,
            maxNodes: v.maxNodes ?? undefined,
          };
          if (editPool?.pool)
            await unwrap(client.PUT('/api/v1/pools/{id}', { params: { path: { id: editPool.pool.id } }, body: { ...body, version: editPool.pool.version } }));
          else await unwrap(client.POST('/api/v1/clusters/{clusterId}/pools', { params: { path: { clusterId: editPool!.cluster.id } }, body }));
          message.success(t('common.saved'));
          await refresh();
        }}
      >
        {() => (
          <>
            <Row gutter={12}>
              <Col span={12}>
                <Form.Item name="name" label={t('common.name')} rules={[{ required: true }]}>
                  <Input data-testid="pool-name" />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name="poolType" label={t('cluster.poolType')} rules={[{ required: true }]}>
                  <Input placeholder="general / gpu / highmem" data-testid="pool-type" />
                </Form.Item>
              </Col>
            </Row>
            <Form.Item name="nodeSelector" label={t('cluster.nodeSelector')}>
              <Input className="mono" placeholder="pool=general" />
            </Form.Item>
            <Row gutter={12}>
              <Col span={12}>
                <Form.Item name="minNodes" label={t('cluster.minNodes')}>
                  <InputNumber min={0} style={{ width: '100%' }} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name="maxNodes" label={t('cluster.maxNodes')}>
                  <InputNumber min={0} style={{ width: '100%' }} />
                </Form.Item>
              </Col>
            </Row>
          </>
        )}
      </FormModal>
    </div>
  );
}
