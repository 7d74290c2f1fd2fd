import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { KeyOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError, client, getSignOutReason, setToken } from '../../api/client';
import { LangToggle } from '../../components/LangToggle';
import { keys } from '../../lib/queries';

/**
 * Sign-in with a bearer token; the token is checked against GET /me before it
 * is kept, and the answer (who, which role) seeds the app's user query.
 */
export function LoginPage() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  // After the server rejected the stored token, say so instead of a bare form.
  const [error, setError] = useState<string | null>(() => (getSignOutReason() ? t('login.rejected') : null));
  const [busy, setBusy] = useState(false);
  const onFinish = async ({ token }: { token: string }) => {
    setBusy(true);
    setError(null);
    const tok = token.trim();
    try {
      const res = await client.GET('/api/v1/me', { headers: { Authorization: `Bearer ${tok}` } });
      if (!res.response.ok || !res.data) throw new ApiError(res.response.status, (res.error ?? {}) as never);
      qc.setQueryData([...keys.me, tok], res.data);
      setToken(tok);
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
          {error ? <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} data-testid="login-error" /> : null}
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
            {t('login.submit')}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
