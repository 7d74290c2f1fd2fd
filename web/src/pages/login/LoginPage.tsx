import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { KeyOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, client, setToken } from '../../api/client';
import { LangToggle } from '../../components/LangToggle';

/** Sign-in with a bearer token; the token is checked against the API before it is kept. */
export function LoginPage() {
  const { t } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const onFinish = async ({ token }: { token: string }) => {
    setBusy(true);
    setError(null);
    try {
      const res = await client.GET('/api/v1/clusters', {
        params: { query: { limit: 1 } },
        headers: { Authorization: `Bearer ${token.trim()}` },
      });
      if (!res.response.ok) throw new ApiError(res.response.status, (res.error ?? {}) as never);
      setToken(token.trim());
    } catch (e) {
      setError(e instanceof ApiError && (e.status === 401 || e.status === 403) ? t('login.invalid') : String((e as Error).message ?? e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', background: '#f0f3f8' }}>
      <Card style={{ width: 400 }}>
        <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
          <Typography.Title level={3} style={{ margin: 0 }}>
            elasticpool
          </Typography.Title>
          <LangToggle />
        </div>
        <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
          {t('app.title')} · {t('login.subtitle')}
        </Typography.Paragraph>
        <Form layout="vertical" onFinish={onFinish}>
          <Form.Item name="token" label={t('login.token')} rules={[{ required: true, whitespace: true, message: t('login.tokenRequired') }]}>
            <Input.Password prefix={<KeyOutlined />} autoFocus data-testid="login-token" />
          </Form.Item>
          {error ? <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} /> : null}
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
            {t('login.submit')}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
