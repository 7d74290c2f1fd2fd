// Loading / error / empty states shared by every page.
import { Alert, Button, Empty, Spin } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';

export function ErrorAlert({ error, onRetry, compact }: { error: unknown; onRetry?: () => void; compact?: boolean }) {
  const { t } = useTranslation();
  const api = error instanceof ApiError ? error : null;
  const title = api?.problem.notServed ? t('common.notServed') : t('common.error');
  const lines: string[] = [];
  if (api) {
    lines.push(`${api.status} ${api.problem.title ?? ''}`.trim());
    if (api.problem.detail) lines.push(api.problem.detail);
    for (const e of api.problem.errors ?? []) lines.push(`${e.location ?? ''}: ${e.message ?? ''}`);
  } else if (error) {
    lines.push(error instanceof Error ? error.message : String(error));
  }
  return (
    <Alert
      type={api?.problem.notServed ? 'warning' : 'error'}
      showIcon
      data-testid="error-state"
      title={title}
      description={(compact ? lines.slice(1).concat(lines.length > 1 ? [] : lines) : lines).map((l, i) => <div key={i}>{l}</div>)}
      action={
        onRetry ? (
          <Button size="small" onClick={onRetry}>
            {t('common.retry')}
          </Button>
        ) : undefined
      }
    />
  );
}

interface Props {
  loading: boolean;
  error: unknown;
  empty?: boolean;
  onRetry?: () => void;
  children: ReactNode;
  emptyText?: ReactNode;
}

/** Renders loading, error or empty instead of children when that is the state. */
export function QueryState({ loading, error, empty, onRetry, children, emptyText }: Props) {
  const { t } = useTranslation();
  if (loading)
    return (
      <div style={{ padding: 32, textAlign: 'center' }} data-testid="loading-state">
        <Spin description={t('common.loading')} />
      </div>
    );
  if (error) return <ErrorAlert error={error} onRetry={onRetry} />;
  if (empty) return <Empty data-testid="empty-state" description={emptyText ?? t('common.empty')} />;
  return <>{children}</>;
}
