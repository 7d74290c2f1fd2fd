// The visual builder of a query template: groups of blocks (type, key, op,
// value), AND/OR between groups and within each group. Controlled: value in,
// the whole new template out on every edit. errors are keyed by JSON path
// (groups[0].blocks[1].value), the same paths the API reports.
import { Button, Card, Input, Segmented, Select, Space, Tooltip, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { Block, Template } from '../../api/models';
import { blockTypes, deviceFields, emptyBlock, emptyGroup, fixBlock, opTakesValue, opsFor } from '../../lib/template';

interface Props {
  value: Template;
  onChange: (t: Template) => void;
  errors?: Record<string, string>;
}

export function TemplateBuilder({ value, onChange, errors = {} }: Props) {
  const { t } = useTranslation();
  const setGroups = (groups: Template['groups']) => onChange({ ...value, groups });
  const updateBlock = (gi: number, bi: number, patch: Partial<Block>) =>
    setGroups(value.groups.map((g, i) => (i !== gi ? g : { ...g, blocks: g.blocks.map((b, j) => (j !== bi ? b : fixBlock({ ...b, ...patch }))) })));

  const err = (path: string) => errors[path];
  const status = (path: string) => (err(path) ? ('error' as const) : undefined);

  return (
    <div data-testid="template-builder">
      <Space style={{ marginBottom: 12 }}>
        <Typography.Text>{t('template.groupLogic')}</Typography.Text>
        <Segmented
          size="small"
          value={value.logic || 'AND'}
          options={['AND', 'OR']}
          onChange={(v) => onChange({ ...value, logic: v as 'AND' | 'OR' })}
          data-testid="template-logic"
        />
      </Space>
      {err('groups') ? <Typography.Paragraph type="danger">{err('groups')}</Typography.Paragraph> : null}
      {value.groups.map((g, gi) => (
        <Card
          key={gi}
          size="small"
          style={{ marginBottom: 12, borderLeft: '3px solid #1668dc' }}
          data-testid={`group-${gi}`}
          title={
            <Space>
              {t('template.group', { n: gi + 1 })}
              <Typography.Text type="secondary" style={{ fontWeight: 'normal' }}>
                {t('template.blockLogic')}
              </Typography.Text>
              <Segmented
                size="small"
                value={g.logic || 'AND'}
                options={['AND', 'OR']}
                onChange={(v) => setGroups(value.groups.map((x, i) => (i === gi ? { ...x, logic: v as 'AND' | 'OR' } : x)))}
              />
            </Space>
          }
          extra={
            <Tooltip title={t('template.removeGroup')}>
              <Button
                size="small"
                type="text"
                danger
                icon={<DeleteOutlined />}
                aria-label={t('template.removeGroup')}
                onClick={() => setGroups(value.groups.filter((_, i) => i !== gi))}
              />
            </Tooltip>
          }
        >
          {err(`groups[${gi}].blocks`) ? <Typography.Paragraph type="danger">{err(`groups[${gi}].blocks`)}</Typography.Paragraph> : null}
          {g.blocks.map((b, bi) => {
            const p = `groups[${gi}].blocks[${bi}]`;
            const ops = opsFor(b.type, b.key);
            const field = b.type === 'device' ? deviceFields.find((f) => f.name === b.key) : undefined;
            const hint =
              b.op === 'in' || b.op === 'notIn' ? t('template.valueHintList') : b.type === 'taint' ? t('template.valueHintTaint') : field?.quantity ? '512Gi' : undefined;
            const blockErrors = ['type', 'key', 'op', 'value'].map((k) => err(`${p}.${k}`)).filter(Boolean);
            return (
              <div key={bi} style={{ marginBottom: 8 }} data-testid={`block-${gi}-${bi}`}>
                <div style={{ display: 'flex', gap: 8, alignItems: 'flex-start' }}>
                  <Select
                    style={{ width: 120, flex: 'none' }}
                    value={b.type || undefined}
                    status={status(`${p}.type`)}
                    aria-label={t('template.type')}
                    data-testid={`block-type-${gi}-${bi}`}
                    options={blockTypes.map((x) => ({ value: x, label: t(`template.types.${x}`) }))}
                    onChange={(type) => updateBlock(gi, bi, { type, key: type === 'device' ? 'cpuCores' : '' })}
                  />
                  {b.type === 'device' ? (
                    <Select
                      style={{ width: 150, flex: 'none' }}
                      value={b.key || undefined}
                      status={status(`${p}.key`)}
                      aria-label={t('template.key')}
                      data-testid={`block-key-${gi}-${bi}`}
                      showSearch
                      options={deviceFields.map((f) => ({ value: f.name, label: f.name }))}
                      onChange={(key) => updateBlock(gi, bi, { key })}
                    />
                  ) : (
                    <Input
                      style={{ width: 150, flex: 'none' }}
                      value={b.key}
                      status={status(`${p}.key`)}
                      placeholder={t('template.key')}
                      aria-label={t('template.key')}
                      data-testid={`block-key-${gi}-${bi}`}
                      onChange={(e) => updateBlock(gi, bi, { key: e.target.value })}
                    />
                  )}
                  <Select
                    style={{ width: 120, flex: 'none' }}
                    value={b.op || undefined}
                    status={status(`${p}.op`)}
                    aria-label={t('template.op')}
                    data-testid={`block-op-${gi}-${bi}`}
                    options={ops.map((o) => ({ value: o, label: t(`template.ops.${o}`) }))}
                    onChange={(op) => updateBlock(gi, bi, { op })}
                  />
                  {opTakesValue(b.op) ? (
                    field?.values && (b.op === 'eq' || b.op === 'ne') ? (
                      <Select
                        style={{ flex: 1, minWidth: 120 }}
                        value={b.value || undefined}
                        status={status(`${p}.value`)}
                        aria-label={t('template.value')}
                        data-testid={`block-value-${gi}-${bi}`}
                        options={field.values.map((v) => ({ value: v, label: v }))}
                        onChange={(v) => updateBlock(gi, bi, { value: v })}
                      />
                    ) : (
                      <Input
                        style={{ flex: 1, minWidth: 120 }}
                        value={b.value ?? ''}
                        status={status(`${p}.value`)}
                        placeholder={hint ?? t('template.value')}
                        aria-label={t('template.value')}
                        data-testid={`block-value-${gi}-${bi}`}
                        onChange={(e) => updateBlock(gi, bi, { value: e.target.value })}
                      />
                    )
                  ) : null}
                  <Tooltip title={t('template.removeBlock')}>
                    <Button
                      type="text"
                      icon={<DeleteOutlined />}
                      aria-label={t('template.removeBlock')}
                      onClick={() => setGroups(value.groups.map((x, i) => (i === gi ? { ...x, blocks: x.blocks.filter((_, j) => j !== bi) } : x)))}
                    />
                  </Tooltip>
                </div>
                {blockErrors.length ? (
                  <div>
                    <Typography.Text type="danger" style={{ fontSize: 12 }}>
                      {blockErrors.join('; ')}
                    </Typography.Text>
                  </div>
                ) : null}
              </div>
            );
          })}
          <Button
            size="small"
            type="dashed"
            icon={<PlusOutlined />}
            data-testid={`add-block-${gi}`}
            onClick={() => setGroups(value.groups.map((x, i) => (i === gi ? { ...x, blocks: [...x.blocks, emptyBlock()] } : x)))}
          >
            {t('template.addBlock')}
          </Button>
        </Card>
      ))}
      <Button type="dashed" icon={<PlusOutlined />} onClick={() => setGroups([...value.groups, emptyGroup()])} data-testid="add-group">
        {t('template.addGroup')}
      </Button>
    </div>
  );
}
