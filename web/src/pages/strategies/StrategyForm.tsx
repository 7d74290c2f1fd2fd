// The strategy form: validates like the API as the user types and, on save,
// places the API's field errors (body.<field>) on the same fields.
import { Alert, Button, Card, Col, Divider, Form, Input, InputNumber, Radio, Row, Select, Space, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { RoleGate } from '../../components/Permission';
import type { Rule } from 'antd/es/form';
import { applyApiError } from '../../lib/formErrors';
import { validateStrategy, type StrategyFormValues } from './validate';

export interface Option {
  value: number | string;
  label: string;
}

interface Props {
  initial: StrategyFormValues;
  templates: Option[];
  clusters: Option[];
  poolTypes: string[];
  onSubmit: (v: StrategyFormValues) => Promise<unknown>;
  onCancel?: () => void;
}

const crossFields: (keyof StrategyFormValues)[] = [
  'thresholdTriggerAction',
  'cpuThresholdValue',
  'cpuThresholdType',
  'cpuTargetValue',
  'memoryThresholdValue',
  'memoryThresholdType',
  'memoryTargetValue',
];

export function StrategyForm({ initial, templates, clusters, poolTypes, onSubmit, onCancel }: Props) {
  const { t } = useTranslation();
  const [form] = Form.useForm<StrategyFormValues>();
  const [banner, setBanner] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const duration = Form.useWatch('durationMinutes', form);

  // Each field's rule runs the whole-form check and reports its own entry.
  const rule = (field: keyof StrategyFormValues): Rule => ({
    validator: () => {
      const code = validateStrategy(form.getFieldsValue(true))[field];
      return code ? Promise.reject(new Error(t(`strategy.errors.${code}`))) : Promise.resolve();
    },
  });
  const deps = (field: keyof StrategyFormValues) => crossFields.filter((f) => f !== field);

  const submit = async () => {
    setBanner([]);
    try {
      await form.validateFields();
    } catch {
      setBanner([t('common.fixErrors')]);
      return;
    }
    setSaving(true);
    try {
      await onSubmit(form.getFieldsValue(true));
    } catch (e) {
      setBanner(applyApiError(form, e));
    } finally {
      setSaving(false);
    }
  };

  const resource = (r: 'cpu' | 'memory') => (
    <Card size="small" title={t(`strategy.${r}`)} style={{ marginBottom: 16 }}>
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name={`${r}ThresholdValue`} label={t('strategy.thresholdValue')} rules={[rule(`${r}ThresholdValue`)]} dependencies={deps(`${r}ThresholdValue`)}>
            <InputNumber style={{ width: '100%' }} min={0} max={100} step={1} data-testid={`${r}ThresholdValue`} />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name={`${r}ThresholdType`} label={t('strategy.thresholdType')} rules={[rule(`${r}ThresholdType`)]} dependencies={deps(`${r}ThresholdType`)}>
            <Select
              allowClear
              data-testid={`${r}ThresholdType`}
              options={[
                { value: 'allocated', label: t('strategy.allocated') },
                { value: 'usage', label: t('strategy.usage') },
              ]}
            />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name={`${r}TargetValue`} label={t('strategy.targetValue')} rules={[rule(`${r}TargetValue`)]} dependencies={deps(`${r}TargetValue`)}>
            <InputNumber style={{ width: '100%' }} min={0} max={100} step={1} data-testid={`${r}TargetValue`} />
          </Form.Item>
        </Col>
      </Row>
    </Card>
  );

  const typeOptions = useMemo(() => poolTypes.map((p) => ({ value: p, label: p })), [poolTypes]);

  return (
    <Form<StrategyFormValues> form={form} layout="vertical" initialValues={initial} onFinish={submit} data-testid="strategy-form">
      {banner.length ? <Alert type="error" showIcon style={{ marginBottom: 16 }} title={banner.map((b, i) => <div key={i}>{b}</div>)} data-testid="form-banner" /> : null}
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Form.Item name="name" label={t('common.name')} required rules={[rule('name')]}>
            <Input maxLength={200} data-testid="strategy-name" />
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item name="thresholdTriggerAction" label={t('strategy.thresholdTriggerAction')} required rules={[rule('thresholdTriggerAction')]}>
            <Radio.Group
              optionType="button"
              options={[
                { value: 'pool_entry', label: t('action.pool_entry') },
                { value: 'pool_exit', label: t('action.pool_exit') },
              ]}
            />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item name="description" label={t('common.description')}>
        <Input.TextArea rows={2} maxLength={2000} />
      </Form.Item>
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Form.Item name="resourceTypes" label={t('strategy.resourceTypes')} rules={[rule('resourceTypes')]}>
            <Select mode="tags" options={typeOptions} tokenSeparators={[',', ' ']} data-testid="strategy-resourceTypes" />
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item name="clusterIds" label={t('strategy.clusters')}>
            <Select mode="multiple" options={clusters} optionFilterProp="label" data-testid="strategy-clusters" />
          </Form.Item>
        </Col>
      </Row>
      {resource('cpu')}
      {resource('memory')}
      <Row gutter={16}>
        <Col xs={24} md={6}>
          <Form.Item name="conditionLogic" label={t('strategy.conditionLogic')}>
            <Radio.Group optionType="button" options={[{ value: 'AND', label: 'AND' }, { value: 'OR', label: 'OR' }]} />
          </Form.Item>
        </Col>
        <Col xs={24} md={6}>
          <Form.Item
            name="durationMinutes"
            label={t('strategy.durationMinutes')}
            required
            rules={[rule('durationMinutes')]}
            extra={duration && duration > 0 ? t('strategy.durationHint', { days: Math.max(1, Math.ceil(duration / 1440)) }) : undefined}
          >
            <InputNumber style={{ width: '100%' }} min={0} step={1440} data-testid="strategy-duration" />
          </Form.Item>
        </Col>
        <Col xs={24} md={6}>
          <Form.Item name="cooldownMinutes" label={t('strategy.cooldownMinutes')} rules={[rule('cooldownMinutes')]}>
            <InputNumber style={{ width: '100%' }} min={0} step={60} />
          </Form.Item>
        </Col>
        <Col xs={24} md={6}>
          <Form.Item name="deviceCount" label={t('strategy.deviceCount')} rules={[rule('deviceCount')]}>
            <InputNumber style={{ width: '100%' }} min={0} />
          </Form.Item>
        </Col>
      </Row>
      <Divider style={{ margin: '8px 0 16px' }} />
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="entryQueryTemplateId" label={t('strategy.entryQueryTemplateId')} extra={t('strategy.useMatchingPolicy')}>
            <Select allowClear options={templates} optionFilterProp="label" />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="exitQueryTemplateId" label={t('strategy.exitQueryTemplateId')}>
            <Select allowClear options={templates} optionFilterProp="label" />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="selectionPolicy" label={t('strategy.selectionPolicy')}>
            <Select
              options={(['random', 'largest-first', 'smallest-first'] as const).map((p) => ({ value: p, label: t(`strategy.${p}`) }))}
            />
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col xs={24} md={16}>
          <Form.Item name="nodeSelector" label={t('strategy.nodeSelector')}>
            <Input placeholder="node-role=worker,!dedicated" className="mono" />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="status" label={t('common.status')}>
            <Radio.Group
              optionType="button"
              options={[
                { value: 'enabled', label: t('common.enabled') },
                { value: 'disabled', label: t('common.disabled') },
              ]}
            />
          </Form.Item>
        </Col>
      </Row>
      <Space>
        <RoleGate>
          <Button type="primary" htmlType="submit" loading={saving} data-testid="strategy-save">
            {t('common.save')}
          </Button>
        </RoleGate>
        {onCancel ? <Button onClick={onCancel}>{t('common.cancel')}</Button> : null}
        <Typography.Text type="secondary" />
      </Space>
    </Form>
  );
}
