import { Button, Table, type TableProps } from 'antd';
import { useTranslation } from 'react-i18next';
import { QueryState } from './QueryState';

interface Props<T> extends Omit<TableProps<T>, 'dataSource' | 'loading'> {
  list: {
    items: T[];
    isLoading: boolean;
    error: unknown;
    refetch: () => unknown;
    hasNextPage: boolean;
    fetchNextPage: () => unknown;
    isFetchingNextPage: boolean;
    isFetching: boolean;
  };
}

/** A table over a cursor-paged list with loading, error and empty states. */
export function CursorTable<T extends object>({ list, ...props }: Props<T>) {
  const { t } = useTranslation();
  return (
    <QueryState loading={list.isLoading} error={list.error} empty={!list.items.length} onRetry={() => list.refetch()}>
      <Table<T> size="middle" pagination={false} scroll={{ x: 'max-content' }} {...props} dataSource={list.items} />
      {list.hasNextPage ? (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>
            {t('common.loadMore')}
          </Button>
        </div>
      ) : null}
    </QueryState>
  );
}
