import { lazy, Suspense, useEffect } from 'react';
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { Button, Layout, Menu, Result, Space, Spin, Tooltip, Typography } from 'antd';
import {
  AlertOutlined,
  AppstoreOutlined,
  AuditOutlined,
  CalendarOutlined,
  ClusterOutlined,
  DatabaseOutlined,
  FileSearchOutlined,
  FilterOutlined,
  HistoryOutlined,
  LogoutOutlined,
  ProfileOutlined,
  SafetyCertificateOutlined,
  ThunderboltOutlined,
  ToolOutlined,
} from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError, client, setToken, unwrap } from './api/client';
import type { Me } from './api/models';
import { LangToggle, useToken } from './components/LangToggle';
import { NotificationBell } from './components/NotificationBell';
import { ErrorBoundary } from './components/ErrorBoundary';
import { MeProvider, UserBadge } from './components/Permission';
import { ErrorAlert } from './components/QueryState';
import { keys } from './lib/queries';
import { LoginPage } from './pages/login/LoginPage';

// One chunk per page.
const WorkbenchPage = lazy(() => import('./pages/workbench/WorkbenchPage'));
const StrategiesPage = lazy(() => import('./pages/strategies/StrategiesPage'));
const StrategyEditPage = lazy(() => import('./pages/strategies/StrategyEditPage'));
const OrdersPage = lazy(() => import('./pages/orders/OrdersPage'));
const OrderDetailPage = lazy(() => import('./pages/orders/OrderDetailPage'));
const TemplatesPage = lazy(() => import('./pages/templates/TemplatesPage'));
const TemplateEditPage = lazy(() => import('./pages/templates/TemplateEditPage'));
const PoliciesPage = lazy(() => import('./pages/policies/PoliciesPage'));
const DevicesPage = lazy(() => import('./pages/devices/DevicesPage'));
const ClustersPage = lazy(() => import('./pages/clusters/ClustersPage'));
const HistoryPage = lazy(() => import('./pages/history/HistoryPage'));
const MaintenancePage = lazy(() => import('./pages/maintenance/MaintenancePage'));
const DutyPage = lazy(() => import('./pages/duty/DutyPage'));
const AuditPage = lazy(() => import('./pages/audit/AuditPage'));

const { Header, Sider, Content } = Layout;

/**
 * GET /me without a token. Behind the trusted auth proxy the server names the
 * user from the proxy's headers (authMethod "proxy"); anywhere else it answers
 * 401, which means "sign in with a token" (null), not an error.
 */
async function proxySession(): Promise<Me | null> {
  try {
    const me = await unwrap(client.GET('/api/v1/me'));
    return me.authMethod === 'proxy' ? me : null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export function App() {
  const token = useToken();
  const { t } = useTranslation();
  const nav = useNavigate();
  const loc = useLocation();

  // Who the token belongs to decides which buttons the pages offer. A
  // rejected token (401) signs out through the client, back to the sign-in
  // page with the reason.
  const me = useQuery({
    queryKey: [...keys.me, token],
    queryFn: () => unwrap(client.GET('/api/v1/me')),
    enabled: !!token,
    staleTime: 5 * 60_000,
  });
  // Without a stored token, ask the server who we are anyway: behind the auth
  // proxy there is no token, the proxy's headers name the user. A stored token
  // wins (this is not asked then).
  const proxy = useQuery({
    queryKey: [...keys.me, 'proxy-session'],
    queryFn: proxySession,
    enabled: !token,
    staleTime: 5 * 60_000,
    retry: false,
  });
  const user = token ? me.data : proxy.data;

  useEffect(() => {
    document.title = `elasticpool · ${t('app.title')}`;
  }, [t]);

  if (!token) {
    if (proxy.isPending) {
      return (
        <div style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center' }}>
          <Spin data-testid="loading-state" />
        </div>
      );
    }
    // No proxy session (401), or the server could not say: a failing server shows when a token is submitted.
    if (!proxy.data) return <LoginPage />;
  }
  if (!user) {
    return (
      <div style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center' }}>
        {me.error ? (
          <Result
            status="warning"
            title={t('perm.meFailed')}
            subTitle={<ErrorAlert error={me.error} compact />}
            extra={
              <Space>
                <Button type="primary" onClick={() => void me.refetch()}>
                  {t('common.retry')}
                </Button>
                <Button icon={<LogoutOutlined />} onClick={() => setToken(null)} data-testid="sign-out">
                  {t('app.signOut')}
                </Button>
              </Space>
            }
          />
        ) : (
          <Spin data-testid="loading-state" />
        )}
      </div>
    );
  }

  const top = '/' + (loc.pathname.split('/')[1] ?? '');
  const items = [
    { key: '/', icon: <AppstoreOutlined />, label: t('nav.workbench') },
    { key: '/orders', icon: <ProfileOutlined />, label: t('nav.orders') },
    {
      type: 'group' as const,
      label: t('nav.capacity'),
      children: [
        { key: '/strategies', icon: <ThunderboltOutlined />, label: t('nav.strategies') },
        { key: '/templates', icon: <FilterOutlined />, label: t('nav.templates') },
        { key: '/policies', icon: <FileSearchOutlined />, label: t('nav.policies') },
        { key: '/history', icon: <HistoryOutlined />, label: t('nav.history') },
      ],
    },
    {
      type: 'group' as const,
      label: t('nav.inventory'),
      children: [
        { key: '/clusters', icon: <ClusterOutlined />, label: t('nav.clusters') },
        { key: '/devices', icon: <DatabaseOutlined />, label: t('nav.devices') },
      ],
    },
    {
      type: 'group' as const,
      label: t('nav.operations'),
      children: [
        { key: '/maintenance', icon: <ToolOutlined />, label: t('nav.maintenance') },
        { key: '/duty', icon: <CalendarOutlined />, label: t('nav.duty') },
        { key: '/audit', icon: <AuditOutlined />, label: t('nav.audit') },
      ],
    },
  ];

  return (
    <MeProvider me={user}>
    <Layout style={{ minHeight: '100vh' }}>
      <Sider width={220} theme="light" breakpoint="lg" collapsedWidth={0} style={{ borderRight: '1px solid #eef0f3' }}>
        <div style={{ height: 56, display: 'flex', alignItems: 'center', gap: 8, padding: '0 20px' }}>
          <AlertOutlined style={{ fontSize: 20, color: '#1668dc' }} />
          <Typography.Text strong style={{ fontSize: 16 }}>
            elasticpool
          </Typography.Text>
        </div>
        <Menu mode="inline" selectedKeys={[top]} items={items} onClick={(e) => nav(e.key)} style={{ borderInlineEnd: 0 }} />
      </Sider>
      <Layout>
        <Header
          style={{
            background: '#fff',
            padding: '0 24px',
            display: 'flex',
            alignItems: 'center',
            justifyContent: 'space-between',
            borderBottom: '1px solid #eef0f3',
            height: 56,
          }}
        >
          <Typography.Text type="secondary">{t('app.title')}</Typography.Text>
          <Space>
            <NotificationBell />
            <UserBadge />
            <LangToggle />
            {token ? (
              <Button type="text" icon={<LogoutOutlined />} onClick={() => setToken(null)} data-testid="sign-out">
                {t('app.signOut')}
              </Button>
            ) : (
              // The proxy owns the session: there is nothing here to sign out of.
              <Tooltip title={t('app.proxySessionHint')}>
                <Typography.Text type="secondary" data-testid="proxy-session">
                  <SafetyCertificateOutlined /> {t('app.proxySession')}
                </Typography.Text>
              </Tooltip>
            )}
          </Space>
        </Header>
        <Content style={{ padding: 24 }}>
          <ErrorBoundary resetKey={loc.pathname}>
          <Suspense
            fallback={
              <div style={{ padding: 48, textAlign: 'center' }}>
                <Spin />
              </div>
            }
          >
            <Routes>
              <Route path="/" element={<WorkbenchPage />} />
              <Route path="/strategies" element={<StrategiesPage />} />
              <Route path="/strategies/new" element={<StrategyEditPage />} />
              <Route path="/strategies/:id" element={<StrategyEditPage />} />
              <Route path="/orders" element={<OrdersPage />} />
              <Route path="/orders/:id" element={<OrderDetailPage />} />
              <Route path="/templates" element={<TemplatesPage />} />
              <Route path="/templates/new" element={<TemplateEditPage />} />
              <Route path="/templates/:id" element={<TemplateEditPage />} />
              <Route path="/policies" element={<PoliciesPage />} />
              <Route path="/devices" element={<DevicesPage />} />
              <Route path="/clusters" element={<ClustersPage />} />
              <Route path="/history" element={<HistoryPage />} />
              <Route path="/maintenance" element={<MaintenancePage />} />
              <Route path="/duty" element={<DutyPage />} />
              <Route path="/audit" element={<AuditPage />} />
              <Route path="*" element={<Navigate to="/" replace />} />
            </Routes>
          </Suspense>
          </ErrorBoundary>
        </Content>
      </Layout>
    </Layout>
    </MeProvider>
  );
}
