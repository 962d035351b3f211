// The API reads and writes of diffs: one diff (polled while its job runs), the project's diffs,
// a diff's row changes as an infinite list of keyset pages (filtered by table and change type,
// searched), and asking for a new diff.

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
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

/** One diff; refetched every second while its job is pending or running. */
export function useDiff(orgId: string, projectId: string, diffId: string) {
  return useQuery({
    queryKey: diffKeys.diff(orgId, projectId, diffId),
    queryFn: () => ok(diffs[':diffId'].$get({ param: { orgId, projectId, diffId } })),
    staleTime: 0,
    refetchInterval: (q) => (q.state.data !== undefined && isLive(q.state.data) ? 1_000 : false),
  })
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

/**
 * A table's changes, page by page (`fetchNextPage` follows the cursor). Enabled once the diff
 * succeeded: the pages of a finished diff never change, so they are kept as long as the page is.
 */
export function useDiffChanges(
  orgId: string,
  projectId: string,
  diffId: string,
  filter: ChangeFilter,
  enabled: boolean,
) {
  return useInfiniteQuery({
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
    enabled,
    staleTime: Infinity,
  })
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
