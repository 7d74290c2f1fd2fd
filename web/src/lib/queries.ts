// Shared queries (lookups used by several pages) and their keys.
import { useQuery, type UseQueryOptions } from '@tanstack/react-query';
import { client, unwrap } from '../api/client';
import { typed } from '../api/typed';
import type { Cluster, MatchingPolicy, Pool, QueryTemplate, Strategy } from '../api/models';

export const keys = {
  clusters: ['clusters'] as const,
  pools: ['pools'] as const,
  templates: ['templates'] as const,
  policies: ['policies'] as const,
  strategies: ['strategies'] as const,
  orders: ['orders'] as const,
  devices: ['devices'] as const,
  history: ['history'] as const,
  workbench: ['workbench'] as const,
  notifications: ['notifications'] as const,
  duty: ['duty'] as const,
  audit: ['audit'] as const,
  /** The signed-in user of a token: ['me', token]. */
  me: ['me'] as const,
};

type Opts<T> = Omit<UseQueryOptions<T>, 'queryKey' | 'queryFn'>;

export function useClusters(opts?: Opts<Cluster[]>) {
  return useQuery({
    queryKey: keys.clusters,
    queryFn: async () => {
      const out: Cluster[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 20; i++) {
        const page = await unwrap(client.GET('/api/v1/clusters', { params: { query: { limit: 500, cursor } } }));
        out.push(...(page.items ?? []));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      return out;
    },
    staleTime: 30_000,
    ...opts,
  });
}

export function usePools(opts?: Opts<Pool[]>) {
  return useQuery({
    queryKey: keys.pools,
    queryFn: async () => {
      const out: Pool[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 20; i++) {
        const page = await unwrap(client.GET('/api/v1/pools', { params: { query: { limit: 500, cursor } } }));
        out.push(...(page.items ?? []));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      return out;
    },
    staleTime: 30_000,
    ...opts,
  });
}

export function useTemplates() {
  return useQuery({
    queryKey: [...keys.templates, 'all'],
    queryFn: async () => (await typed.get('/device-query/templates', { query: { limit: 500 } })).items ?? ([] as QueryTemplate[]),
    staleTime: 30_000,
  });
}

export function usePolicies() {
  return useQuery({
    queryKey: [...keys.policies, 'all'],
    queryFn: async () => (await typed.get('/resource-pool/matching-policies', { query: { limit: 500 } })).items ?? ([] as MatchingPolicy[]),
    staleTime: 30_000,
  });
}

export function useStrategies() {
  return useQuery({
    queryKey: [...keys.strategies, 'all'],
    queryFn: async () => (await typed.get('/elastic-scaling/strategies', { query: { limit: 500 } })).items ?? ([] as Strategy[]),
    staleTime: 30_000,
  });
}

/** Names for ids: "cluster / pool" labels used across pages. */
export function useNames() {
  const clusters = useClusters();
  const pools = usePools();
  const clusterName = (id?: number | null) => {
    if (id == null) return '—';
    const c = clusters.data?.find((x) => x.id === id);
    return c ? c.displayName || c.name : `#${id}`;
  };
  const poolName = (id?: number | null) => {
    if (id == null) return '—';
    const p = pools.data?.find((x) => x.id === id);
    return p ? p.name : `#${id}`;
  };
  return { clusters, pools, clusterName, poolName, poolLabel: (c?: number | null, p?: number | null) => `${clusterName(c)} / ${poolName(p)}` };
}
