// The API reads and writes of diffs: one diff (polled while its job runs), the project's diffs,
// a diff's row changes as an infinite list of keyset pages (filtered by table and change type,
// searched), and asking for a new diff.

import {
  infiniteQueryOptions,
  queryOptions,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
} from '@tanstack/react-query'
import type { InferRequestType, InferResponseType } from 'hono/client'
import { api, ok } from './api.ts'
import { isLive, jobKeys } from './job-queries.ts'

const project = api.orgs[':orgId'].projects[':projectId']
const diffs = project.diffs

export type Diff = InferResponseType<(typeof diffs)[':diffId']['$get'], 200>
export type DiffChange = InferResponseType<
  (typeof diffs)[':diffId']['changes']['$get'],
  200
>['items'][number]
export type ChangeType = DiffChange['change']
export const CHANGE_TYPES: readonly ChangeType[] = ['added', 'removed', 'modified']
export type DiffRequest = InferRequestType<typeof diffs.$post>['json']

export type DiffTable = NonNullable<Diff['tables']>[number]
/**
 * The names of a table's columns: of its key, and of the `old` and `new` rows (the two sides may
 * differ when a column was added or dropped). Null for diffs stored before the API sent them.
 */
export type TableColumns = NonNullable<DiffTable['columns']>

/** What the changes list shows: a table's changes, of one type, matching a search. */
export interface ChangeFilter {
  table: string
  type?: ChangeType | undefined
  q?: string | undefined
}

/** Changes in the first page: a screenful and some, quick to answer and to show. */
const FIRST_PAGE = 100
/** Changes in the pages after it: the API's maximum; 10,000 changes are 21 requests. */
const NEXT_PAGES = 500

export const diffKeys = {
  /** The lists of diffs (not the diffs' pages, which a new diff leaves alone). */
  lists: (orgId: string, projectId: string) =>
    [...jobKeys.project(orgId, projectId), 'diff-lists'] as const,
  diffs: (orgId: string, projectId: string) =>
    [...jobKeys.project(orgId, projectId), 'diffs'] as const,
  diff: (orgId: string, projectId: string, diffId: string) =>
    [...diffKeys.diffs(orgId, projectId), diffId] as const,
  changes: (orgId: string, projectId: string, diffId: string, filter: ChangeFilter) =>
    [...diffKeys.diff(orgId, projectId, diffId), 'changes', filter] as const,
}

const diffQuery = (orgId: string, projectId: string, diffId: string) =>
  queryOptions({
    queryKey: diffKeys.diff(orgId, projectId, diffId),
    queryFn: () => ok(diffs[':diffId'].$get({ param: { orgId, projectId, diffId } })),
    staleTime: 0,
    refetchInterval: (q) => (q.state.data !== undefined && isLive(q.state.data) ? 1_000 : false),
  })

/** One diff; refetched every second while its job is pending or running. */
export function useDiff(orgId: string, projectId: string, diffId: string) {
  return useQuery(diffQuery(orgId, projectId, diffId))
}

/** The project's latest diffs (of one connection); refetched while one runs. */
export function useDiffs(orgId: string, projectId: string, connectionId?: string) {
  const query = { ...(connectionId === undefined ? {} : { connectionId }), limit: '20' }
  return useQuery({
    queryKey: [...diffKeys.lists(orgId, projectId), query] as const,
    queryFn: () => ok(diffs.$get({ param: { orgId, projectId }, query })),
    refetchInterval: (q) => (q.state.data?.diffs.some(isLive) === true ? 2_000 : 15_000),
  })
}

const changesQuery = (orgId: string, projectId: string, diffId: string, filter: ChangeFilter) =>
  infiniteQueryOptions({
    queryKey: diffKeys.changes(orgId, projectId, diffId, filter),
    queryFn: ({ pageParam }) =>
      ok(
        diffs[':diffId'].changes.$get({
          param: { orgId, projectId, diffId },
          query: {
            table: filter.table,
            ...(filter.type === undefined ? {} : { type: filter.type }),
            ...(filter.q === undefined || filter.q === '' ? {} : { q: filter.q }),
            ...(pageParam === null ? {} : { cursor: pageParam }),
            limit: String(pageParam === null ? FIRST_PAGE : NEXT_PAGES),
          },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextCursor,
    // The pages of a succeeded diff never change.
    staleTime: Infinity,
  })

/** A table's changes, page by page (`fetchNextPage` follows the cursor). */
export function useDiffChanges(
  orgId: string,
  projectId: string,
  diffId: string,
  filter: ChangeFilter,
) {
  return useInfiniteQuery(changesQuery(orgId, projectId, diffId, filter))
}

/** The filters of a diff page's URL (`?table=&type=&q=`): shareable, so read from there. */
export function changeFilterOf(params: URLSearchParams): {
  table: string | undefined
  type: ChangeType | undefined
  q: string
} {
  const type = params.get('type')
  return {
    table: params.get('table') ?? undefined,
    type: CHANGE_TYPES.find((t) => t === type),
    q: params.get('q') ?? '',
  }
}

/** Sections open at first: all of a small diff, the first of a large one. */
const OPEN_AT_FIRST = 5

/** The tables whose sections are open when the page loads. */
export function openAtFirst(tables: readonly DiffTable[]): DiffTable[] {
  return tables.slice(0, tables.length > OPEN_AT_FIRST ? 1 : OPEN_AT_FIRST)
}

/**
 * Starts reading a diff and the first page of each section it opens with, for the diff page's
 * route: in parallel with the session check the app makes first, instead of after it.
 */
export function prefetchDiff(
  queryClient: QueryClient,
  params: { orgId?: string; projectId?: string; diffId?: string },
  url: URL,
): void {
  const { orgId = '', projectId = '', diffId = '' } = params
  const filter = changeFilterOf(url.searchParams)
  void queryClient
    .fetchQuery(diffQuery(orgId, projectId, diffId))
    .then((diff) => {
      if (diff.state !== 'succeeded') return
      const tables = diff.tables ?? []
      const open =
        filter.table === undefined
          ? openAtFirst(tables)
          : tables.filter((t) => t.table === filter.table)
      for (const { table } of open) {
        void queryClient.prefetchInfiniteQuery(
          changesQuery(orgId, projectId, diffId, { table, type: filter.type, q: filter.q }),
        )
      }
    })
    // The page shows the error when its own query fails.
    .catch(() => undefined)
}

/** How many changes of each table pass a filter (a search): the lists' lengths before they load. */
export function useDiffCounts(
  orgId: string,
  projectId: string,
  diffId: string,
  filter: Omit<ChangeFilter, 'table'>,
  enabled: boolean,
) {
  return useQuery({
    queryKey: [...diffKeys.diff(orgId, projectId, diffId), 'counts', filter] as const,
    queryFn: () =>
      ok(
        diffs[':diffId'].counts.$get({
          param: { orgId, projectId, diffId },
          query: {
            ...(filter.type === undefined ? {} : { type: filter.type }),
            ...(filter.q === undefined || filter.q === '' ? {} : { q: filter.q }),
          },
        }),
      ),
    enabled,
    staleTime: Infinity,
  })
}

/** Asks for a diff (two snapshots, or a snapshot and the live database). */
export function useRequestDiff(orgId: string, projectId: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (json: DiffRequest) => ok(diffs.$post({ param: { orgId, projectId }, json })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: diffKeys.lists(orgId, projectId) })
      await queryClient.invalidateQueries({ queryKey: jobKeys.jobs(orgId, projectId) })
    },
  })
}

/** The export route's URL: a Markdown summary or the changes as NDJSON, with the page's filters. */
export function exportUrl(
  orgId: string,
  projectId: string,
  diffId: string,
  format: 'markdown' | 'ndjson',
  filter: Partial<ChangeFilter> = {},
): string {
  const params = new URLSearchParams({ format })
  if (filter.table !== undefined) params.set('table', filter.table)
  if (filter.type !== undefined) params.set('type', filter.type)
  if (filter.q !== undefined && filter.q !== '') params.set('q', filter.q)
  return `/api/v1/orgs/${orgId}/projects/${projectId}/diffs/${diffId}/export?${params.toString()}`
}
