// Create / edit a query template: name, description, the visual builder with
// a live preview of matching devices, and the JSON that is saved.
import { Alert, App, Button, Card, Col, Collapse, Form, Input, Row, Space } from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { RoleGate } from '../../components/Permission';
import { useNavigate, useParams } from 'react-router-dom';
import { ApiError } from '../../api/client';
import { typed } from '../../api/typed';
import type { Template } from '../../api/models';
import { QueryState } from '../../components/QueryState';
import { applyApiError } from '../../lib/formErrors';
import { keys } from '../../lib/queries';
import { emptyTemplate, parseTemplate, toTemplateJSON, validateTemplate } from '../../lib/template';
import { Preview } from './Preview';
import { TemplateBuilder } from './TemplateBuilder';

export default function TemplateEditPage() {
  const { id } = useParams();
  const isNew = !id || id === 'new';
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ name: string; description: string }>();
  const [tpl, setTpl] = useState<Template>(emptyTemplate());
  const [touched, setTouched] = useState(false);
  const [apiErrors, setApiErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);

  const existing = useQuery({
    queryKey: [...keys.templates, 'one', id],
    enabled: !isNew,
    queryFn: () => typed.get('/device-query/templates/{id}', { path: { id: Number(id) } }),
  });
  useEffect(() => {
    if (existing.data) {
      form.setFieldsValue({ name: existing.data.name, description: existing.data.description ?? '' });
      setTpl(parseTemplate(existing.data.groups));
    }
  }, [existing.data, form]);

  const localErrors = useMemo(() => {
    const out: Record<string, string> = {};
    for (const e of validateTemplate(tpl)) out[e.path] ??= t(`template.errors.${e.code}`);
    return out;
  }, [tpl, t]);
  const json = useMemo(() => toTemplateJSON(tpl), [tpl]);

  const save = async () => {
    setBanner([]);
    setTouched(true);
    let values: { name: string; description: string };
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    if (Object.keys(localErrors).length) {
      setBanner([t('common.fixErrors')]);
      return;
    }
    setSaving(true);
    try {
      const body = { name: values.name.trim(), description: values.description ?? '', groups: json as never };
      if (isNew) await typed.post('/device-query/templates', body);
      else await typed.put('/device-query/templates/{id}', { ...body, version: existing.data?.version }, { path: { id: Number(id) } });
      message.success(t('common.saved'));
      await qc.invalidateQueries({ queryKey: keys.templates });
      nav('/templates');
    } catch (e) {
      // Template errors (body.groups.groups[0].blocks[1].op) go on the builder, the rest on the form.
      const builder: Record<string, string> = {};
      if (e instanceof ApiError) {
        for (const fe of e.problem.errors ?? []) {
          const loc = fe.location ?? '';
          const m = /^body\.groups\.?(.*)$/.exec(loc);
          if (m) builder[m[1] || 'groups'] = fe.message ?? '';
        }
      }
      setApiErrors(builder);
      const rest = applyApiError(form, e).filter((l) => !/^groups/.test(l));
      setBanner(rest.length ? rest : Object.keys(builder).length ? [t('common.fixErrors')] : []);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Card title={isNew ? t('template.createTitle') : t('template.editTitle')}>
      <QueryState loading={!isNew && existing.isLoading} error={existing.error} onRetry={() => existing.refetch()}>
        {banner.length ? <Alert type="error" showIcon style={{ marginBottom: 16 }} title={banner.map((b, i) => <div key={i}>{b}</div>)} /> : null}
        <Row gutter={24}>
          <Col xs={24} xl={15}>
            <Form form={form} layout="vertical" initialValues={{ name: '', description: '' }}>
              <Form.Item name="name" label={t('common.name')} rules={[{ required: true, whitespace: true, message: t('template.errors.required') }]}>
                <Input maxLength={200} data-testid="template-name" />
              </Form.Item>
              <Form.Item name="description" label={t('common.description')}>
                <Input.TextArea rows={2} maxLength={2000} />
              </Form.Item>
            </Form>
            <TemplateBuilder
              value={tpl}
              onChange={(v) => {
                setTpl(v);
                setApiErrors({});
              }}
              errors={{ ...(touched ? localErrors : {}), ...apiErrors }}
            />
            <Collapse
              style={{ marginTop: 16 }}
              size="small"
              items={[{ key: 'json', label: t('template.json'), children: <pre className="mono" data-testid="template-json">{JSON.stringify(json, null, 2)}</pre> }]}
            />
            <Space style={{ marginTop: 16 }}>
              <RoleGate>
                <Button type="primary" onClick={save} loading={saving} data-testid="template-save">
                  {t('common.save')}
                </Button>
              </RoleGate>
              <Button onClick={() => nav('/templates')}>{t('common.cancel')}</Button>
            </Space>
          </Col>
          <Col xs={24} xl={9}>
            <Preview template={json} valid={Object.keys(localErrors).length === 0} />
          </Col>
        </Row>
      </QueryState>
    </Card>
  );
}
