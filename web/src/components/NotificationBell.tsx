// In-app notifications (GET /notifications), polled every 30 s.
import { Badge, Button, List, Popover, Typography } from 'antd';
import { BellOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { typed } from '../api/typed';
import { fmtTime } from '../lib/format';
import { keys } from '../lib/queries';
import { QueryState } from './QueryState';

// notify writes one message for every channel: the email subject (with its
// "[elasticpool]" tag) and the whole plain-text mail (facts, link, footer).
// The bell shows the subject without the tag and the mail's first paragraph;
// the link opens the rest.
export function shortTitle(title: string): string {
  return title.replace(/^\[elasticpool\]\s*/, '');
}

export function summary(body: string): string {
  return body.split(/\r?\n\s*\r?\n/)[0].trim();
}

export function NotificationBell() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: keys.notifications,
    queryFn: () => typed.get('/notifications', { query: { limit: 20 } }),
    refetchInterval: 30_000,
    retry: false,
  });
  const unreadCount = useQuery({
    queryKey: [...keys.notifications, 'unread'],
    queryFn: () => typed.get('/notifications/unread-count'),
    refetchInterval: 30_000,
    retry: false,
  });
  const read = useMutation({
    mutationFn: (id: number) => typed.post('/notifications/{id}/read', undefined as never, { path: { id } }),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.notifications }),
  });
  const readAll = useMutation({
    mutationFn: () => typed.post('/notifications/read-all', undefined as never),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.notifications }),
  });
  const items = q.data?.items ?? [];
  const unread = unreadCount.data?.count ?? items.filter((n) => !n.read).length;
  const content = (
    <div style={{ width: 360, maxHeight: 420, overflow: 'auto' }}>
      <QueryState loading={q.isLoading} error={q.error} empty={!items.length} emptyText={t('notification.empty')} onRetry={() => q.refetch()}>
        <List
          size="small"
          dataSource={items}
          renderItem={(n) => (
            <List.Item
              data-testid={`notification-${n.id}`}
              style={{ cursor: n.link ? 'pointer' : 'default', opacity: n.read ? 0.6 : 1 }}
              onClick={() => {
                if (!n.read) read.mutate(n.id);
                if (n.link) {
                  try {
                    const u = new URL(n.link, window.location.origin);
                    nav(u.pathname + u.search);
                  } catch {
                    /* not a link we can follow */
                  }
                }
              }}
            >
              <List.Item.Meta
                title={<Typography.Text strong={!n.read}>{shortTitle(n.title)}</Typography.Text>}
                description={
                  <>
                    <Typography.Paragraph type="secondary" ellipsis={{ rows: 2 }} style={{ marginBottom: 0 }}>
                      {summary(n.body)}
                    </Typography.Paragraph>
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {fmtTime(n.createdAt)}
                    </Typography.Text>
                  </>
                }
              />
            </List.Item>
          )}
        />
      </QueryState>
    </div>
  );
  return (
    <Popover
      content={content}
      title={
        <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
          {t('notification.title')}
          <Button size="small" type="link" disabled={!unread} onClick={() => readAll.mutate()} data-testid="notification-read-all">
            {t('notification.markAllRead')}
          </Button>
        </div>
      }
      trigger="click"
      placement="bottomRight"
    >
      <span data-testid="notification-badge" data-unread={unread}>
        <Badge count={unread} size="small" offset={[-4, 4]}>
          <Button type="text" icon={<BellOutlined />} aria-label={t('notification.title')} data-testid="notification-bell" />
        </Badge>
      </span>
    </Popover>
  );
}
