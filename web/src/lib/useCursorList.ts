// Cursor-paged lists ({items, nextCursor}) as an infinite query: the table
// shows every loaded page and a "load more" button while nextCursor is set.
// useListQuery takes any page fetcher (e.g. the maintenance API, which has its
// own schema); useTypedList is the checked form for the main API.
import { useInfiniteQuery } from '@tanstack/react-query';
import type { List } from '../api/models';
import { typed, type GetQuery, type GetResult, type PathOf } from '../api/typed';

export function useListQuery<T>(queryKey: unknown[], fetchPage: (cursor: string | undefined, signal: AbortSignal) => Promise<List<T>>, refetchInterval?: number) {
  const q = useInfiniteQuery({
    queryKey,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => fetchPage(pageParam, signal),
    getNextPageParam: (last) => last.nextCursor || undefined,
    refetchInterval,
  });
  const items: T[] = q.data?.pages.flatMap((p) => p.items ?? []) ?? [];
  return { ...q, items };
}

type ListPath = { [P in PathOf<'get'>]: GetResult<P> extends { items: unknown } ? (GetQuery<P> extends { cursor?: string } ? P : never) : never }[PathOf<'get'>];
type ItemOf<P extends ListPath> = GetResult<P> extends { items: (infer I)[] | null } ? I : never;

/** A list the schema describes: path, filters and item type are checked by tsc. */
export function useTypedList<P extends ListPath>(key: readonly unknown[], path: P, query: Omit<GetQuery<P>, 'cursor'>, pageSize = 50, refetchInterval?: number) {
  return useListQuery<ItemOf<P>>(
    [...key, 'list', path, query],
    (cursor, signal) => typed.get(path, { query: { ...query, limit: pageSize, cursor } as never, signal }) as unknown as Promise<List<ItemOf<P>>>,
    refetchInterval,
  );
}
