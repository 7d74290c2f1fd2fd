import { Button, Form, Space } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/** An inline filter form: values are applied on submit, cleared on reset. */
export function FilterBar<T extends object>({ initial, onChange, children }: { initial?: Partial<T>; onChange: (v: Partial<T>) => void; children: ReactNode }) {
  const { t } = useTranslation();
  const [form] = Form.useForm();
  return (
    <Form form={form} layout="inline" className="filters" initialValues={initial} onFinish={(v) => onChange(v as Partial<T>)}>
      {children}
      <Form.Item>
        <Space>
          <Button type="primary" htmlType="submit">
            {t('common.search')}
          </Button>
          <Button
            onClick={() => {
              form.resetFields();
              form.setFieldsValue(Object.fromEntries(Object.keys(form.getFieldsValue()).map((k) => [k, undefined])));
              onChange({});
            }}
          >
            {t('common.reset')}
          </Button>
        </Space>
      </Form.Item>
    </Form>
  );
}
