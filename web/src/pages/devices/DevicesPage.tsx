// 设备: the inventory with filters and bulk import (JSON or CSV).
import { Alert, App, Button, Form, Input, Modal, Select, Space, Tag, Tooltip, Typography, Upload } from 'antd';
import { ImportOutlined, UploadOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { request } from '../../api/client';
import type { Device, DeviceImportResult } from '../../api/models';
import { RoleGate } from '../../components/Permission';
import { CursorTable } from '../../components/CursorTable';
import { FilterBar } from '../../components/FilterBar';
import { ErrorAlert } from '../../components/QueryState';
import { fmtBytes } from '../../lib/format';
import { keys, useNames } from '../../lib/queries';
import { useTypedList } from '../../lib/useCursorList';
import { parseImport } from './importParse';

interface Filters {
  hostname?: string;
  status?: Device['status'];
  idc?: string;
  zone?: string;
  clusterId?: number;
  poolId?: number;
  label?: string;
}

const statusColor: Record<string, string> = { idle: 'green', in_pool: 'blue', cordoned: 'orange', maintenance: 'purple', retired: 'default' };
const statuses = ['idle', 'in_pool', 'cordoned', 'maintenance', 'retired'];

export default function DevicesPage() {
  const { t } = useTranslation();
  const names = useNames();
  const [params] = useSearchParams();
  const initial: Filters = params.get('status') ? { status: params.get('status') as Device['status'] } : {};
  const [filters, setFilters] = useState<Filters>(initial);
  const { label, ...rest } = filters;
  const list = useTypedList(keys.devices, '/devices', {
    ...rest,
    label: label ? label.split(/[\s,]+/).filter(Boolean) : undefined,
  });
  const [importOpen, setImportOpen] = useState(false);

  return (
    <div>
      <div className="page-header">
        <h2>{t('nav.devices')}</h2>
        <RoleGate>
          <Button type="primary" icon={<ImportOutlined />} onClick={() => setImportOpen(true)} data-testid="device-import">
            {t('device.import')}
          </Button>
        </RoleGate>
      </div>
      <FilterBar<Filters> onChange={setFilters} initial={initial}>
        <Form.Item name="hostname">
          <Input placeholder={t('device.hostname')} allowClear style={{ width: 160 }} />
        </Form.Item>
        <Form.Item name="status">
          <Select allowClear placeholder={t('common.status')} style={{ width: 120 }} options={statuses.map((s) => ({ value: s, label: t(`device.statuses.${s}`) }))} />
        </Form.Item>
        <Form.Item name="idc">
          <Input placeholder={t('device.idc')} allowClear style={{ width: 110 }} />
        </Form.Item>
        <Form.Item name="zone">
          <Input placeholder={t('device.zone')} allowClear style={{ width: 110 }} />
        </Form.Item>
        <Form.Item name="clusterId">
          <Select
            allowClear
            placeholder={t('common.cluster')}
            style={{ width: 150 }}
            options={(names.clusters.data ?? []).map((c) => ({ value: c.id, label: c.displayName || c.name }))}
          />
        </Form.Item>
        <Form.Item name="poolId">
          <Select
            allowClear
            placeholder={t('common.pool')}
            style={{ width: 170 }}
            options={(names.pools.data ?? []).map((p) => ({ value: p.id, label: `${names.clusterName(p.clusterId)} / ${p.name}` }))}
          />
        </Form.Item>
        <Form.Item name="label">
          <Input placeholder={`${t('device.labels')} k=v`} allowClear style={{ width: 150 }} />
        </Form.Item>
      </FilterBar>
      <CursorTable<Device>
        rowKey="id"
        list={list}
        columns={[
          { title: t('device.hostname'), dataIndex: 'hostname', fixed: 'left' },
          { title: t('device.ip'), dataIndex: 'ip' },
          { title: t('common.status'), dataIndex: 'status', render: (v) => <Tag color={statusColor[v]}>{t(`device.statuses.${v}`, { defaultValue: v })}</Tag> },
          { title: `${t('device.idc')} / ${t('device.zone')} / ${t('device.rack')}`, render: (_, d) => [d.idc, d.zone, d.rack].filter(Boolean).join(' / ') || '—' },
          { title: t('device.cpuCores'), dataIndex: 'cpuCores', render: (v, d) => `${v ?? 0}${d.cpuArch ? ` (${d.cpuArch})` : ''}` },
          { title: t('device.memory'), dataIndex: 'memoryBytes', render: fmtBytes },
          { title: t('device.gpu'), render: (_, d) => (d.gpuCount ? `${d.gpuCount} × ${d.gpuModel ?? ''}` : '—') },
          { title: `${t('common.cluster')} / ${t('common.pool')}`, render: (_, d) => (d.clusterId ? names.poolLabel(d.clusterId, d.poolId) : '—') },
          {
            title: t('device.labels'),
            dataIndex: 'labels',
            render: (l: Device['labels'], d) => (
              <Space size={2} wrap>
                {Object.entries(l ?? {}).map(([k, v]) => (
                  <Tag key={k} style={{ fontSize: 11 }}>
                    {k}={v}
                  </Tag>
                ))}
                {(d.taints ?? []).map((x) => (
                  <Tooltip key={`${x.key}${x.effect}`} title={t('device.taints')}>
                    <Tag color="volcano" style={{ fontSize: 11 }}>
                      {x.key}
                      {x.value ? `=${x.value}` : ''}:{x.effect}
                    </Tag>
                  </Tooltip>
                ))}
              </Space>
            ),
          },
          { title: t('nav.orders'), dataIndex: 'heldByOrderId', render: (v) => (v ? <Link to={`/orders/${v}`}>#{v}</Link> : '') },
        ]}
      />
      <ImportModal open={importOpen} onClose={() => setImportOpen(false)} />
    </div>
  );
}

function ImportModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [text, setText] = useState('');
  const parsed = useMemo(() => {
    if (!text.trim()) return null;
    try {
      return { ok: parseImport(text) };
    } catch (e) {
      return { err: (e as Error).message };
    }
  }, [text]);
  const mut = useMutation({
    mutationFn: () => request<DeviceImportResult>('POST', '/devices/import', { rawBody: parsed!.ok!.body, contentType: parsed!.ok!.contentType }),
    onSuccess: (r) => {
      message.success(`${t('device.importDone')}: +${r.created} ~${r.updated} =${r.unchanged}`);
      void qc.invalidateQueries({ queryKey: keys.devices });
      setText('');
      onClose();
    },
  });
  return (
    <Modal
      open={open}
      width={760}
      title={t('device.import')}
      okText={t('device.import')}
      cancelText={t('common.cancel')}
      okButtonProps={{ disabled: !parsed?.ok, 'data-testid': 'device-import-ok' } as never}
      confirmLoading={mut.isPending}
      onOk={() => mut.mutate()}
      onCancel={onClose}
    >
      <Typography.Paragraph type="secondary">{t('device.importHint')}</Typography.Paragraph>
      <Upload
        accept=".csv,.json,text/csv,application/json"
        showUploadList={false}
        beforeUpload={(f) => {
          void f.text().then(setText);
          return false;
        }}
      >
        <Button icon={<UploadOutlined />} style={{ marginBottom: 8 }}>
          CSV / JSON
        </Button>
      </Upload>
      <Input.TextArea rows={12} className="mono" value={text} onChange={(e) => setText(e.target.value)} data-testid="device-import-text" />
      {parsed?.ok ? <Alert style={{ marginTop: 8 }} type="info" showIcon title={t('device.importParsed', { n: parsed.ok.rows })} /> : null}
      {parsed?.err ? <Alert style={{ marginTop: 8 }} type="warning" showIcon title={t('device.importBad', { msg: parsed.err })} /> : null}
      {mut.error ? (
        <div style={{ marginTop: 8 }}>
          <ErrorAlert error={mut.error} />
        </div>
      ) : null}
    </Modal>
  );
}
