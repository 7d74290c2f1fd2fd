// A modal form that saves through the API and shows the API's field errors
// on the fields (body.<field>) and the rest above the form.
import { Alert, Form, Modal, type FormInstance } from 'antd';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { applyApiError } from '../lib/formErrors';

interface Props<T> {
  open: boolean;
  title: string;
  initial?: Partial<T>;
  onSubmit: (values: T) => Promise<unknown>;
  onClose: () => void;
  children: (form: FormInstance<T>) => ReactNode;
  width?: number;
  testId?: string;
}

export function FormModal<T extends object>({ open, title, initial, onSubmit, onClose, children, width = 560, testId }: Props<T>) {
  const { t } = useTranslation();
  const [form] = Form.useForm<T>();
  const [banner, setBanner] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  // Reset only when the modal opens: callers pass `initial` as a literal, a new
  // object every render, and a re-render (a list refetching behind the modal)
  // must not wipe what the user is typing.
  const initialRef = useRef(initial);
  initialRef.current = initial;
  useEffect(() => {
    if (open) {
      form.resetFields();
      if (initialRef.current) form.setFieldsValue(initialRef.current as never);
      setBanner([]);
    }
  }, [open, form]);
  return (
    <Modal
      open={open}
      title={title}
      width={width}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={saving}
      onCancel={onClose}
      okButtonProps={{ 'data-testid': `${testId ?? 'form'}-ok` } as never}
      onOk={async () => {
        setBanner([]);
        let v: T;
        try {
          v = await form.validateFields();
        } catch {
          return;
        }
        setSaving(true);
        try {
          await onSubmit({ ...(form.getFieldsValue(true) as T), ...v });
          onClose();
        } catch (e) {
          setBanner(applyApiError(form, e));
        } finally {
          setSaving(false);
        }
      }}
      forceRender
    >
      {banner.length ? <Alert type="error" showIcon style={{ marginBottom: 16 }} title={banner.map((b, i) => <div key={i}>{b}</div>)} data-testid="form-banner" /> : null}
      <Form form={form} layout="vertical" data-testid={testId}>
        {children(form)}
      </Form>
    </Modal>
  );
}
