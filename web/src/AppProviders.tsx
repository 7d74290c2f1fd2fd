import { App as AntApp, ConfigProvider } from 'antd';
import zhCNAntd from 'antd/locale/zh_CN';
import enUSAntd from 'antd/locale/en_US';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from './api/client';

export function newQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 4xx will not get better by asking again.
        retry: (n, err) => n < 2 && !(err instanceof ApiError && err.status < 500),
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

export function AppProviders({ children, client }: { children: ReactNode; client?: QueryClient }) {
  const { i18n } = useTranslation();
  const [qc] = useState(() => client ?? newQueryClient());
  return (
    // autoInsertSpace off: antd spaces out two-character Chinese labels ("执 行") but not longer ones.
    <ConfigProvider
      locale={i18n.language === 'en-US' ? enUSAntd : zhCNAntd}
      theme={{ token: { colorPrimary: '#1668dc', borderRadius: 6 } }}
      button={{ autoInsertSpace: false }}
    >
      <AntApp>
        <QueryClientProvider client={qc}>{children}</QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  );
}
