// The API reads of a project's work: its agents, jobs and snapshot catalogue, and one connection.
// Lists of jobs refetch every two seconds while any job in them is pending or running, so a
// page shows a job's progress without a reload, and every 15 s once all have settled, to show
// jobs that schedules or other people queue.

import { useQuery } from '@tanstack/react-query'
import type { InferResponseType } from 'hono/client'
import { api, ok } from './api.ts'

const project = api.orgs[':orgId'].projects[':projectId']

export type Job = InferResponseType<(typeof project.jobs)[':jobId']['$get'], 200>
export type JobState = Job['state']
export type Agent = InferResponseType<typeof project.agents.$get, 200>['agents'][number]
export type Snapshot = InferResponseType<typeof project.snapshots.$get, 200>['snapshots'][number]

export const LIVE_STATES: readonly JobState[] = ['pending', 'running']
const LIVE_REFRESH_MS = 2_000
const SETTLED_REFRESH_MS = 15_000

export const isLive = (job: { state: JobState }): boolean => LIVE_STATES.includes(job.state)

/** Refetch often while any job is live, now and then otherwise. */
const whileLive = (jobs: readonly { state: JobState }[] | undefined) =>
  jobs?.some(isLive) === true ? LIVE_REFRESH_MS : SETTLED_REFRESH_MS

export const jobKeys = {
  project: (orgId: string, projectId: string) => ['orgs', orgId, 'projects', projectId] as const,
  connection: (orgId: string, projectId: string, connectionId: string) =>
    ['orgs', orgId, 'projects', projectId, 'connections', connectionId] as const,
  agents: (orgId: string, projectId: string) =>
    ['orgs', orgId, 'projects', projectId, 'agents'] as const,
  jobs: (orgId: string, projectId: string) =>
    ['orgs', orgId, 'projects', projectId, 'jobs'] as const,
  job: (orgId: string, projectId: string, jobId: string) =>
    ['orgs', orgId, 'projects', projectId, 'jobs', jobId] as const,
  snapshots: (orgId: string, projectId: string) =>
    ['orgs', orgId, 'projects', projectId, 'snapshots'] as const,
}

/** One connection; not read when `connectionId` is empty (a diff whose connection is gone). */
export function useConnection(orgId: string, projectId: string, connectionId: string) {
  return useQuery({
    queryKey: jobKeys.connection(orgId, projectId, connectionId),
    queryFn: () =>
      ok(
        project.connections[':connectionId'].$get({
          param: { orgId, projectId, connectionId },
        }),
      ),
    enabled: connectionId !== '',
  })
}

export function useAgents(orgId: string, projectId: string) {
  return useQuery({
    queryKey: jobKeys.agents(orgId, projectId),
    queryFn: () => ok(project.agents.$get({ param: { orgId, projectId } })),
    // Last seen changes while the page is open.
    refetchInterval: 15_000,
  })
}

export interface JobFilter {
  state?: JobState | undefined
  connectionId?: string | undefined
  limit?: number
}

export function useJobs(orgId: string, projectId: string, filter: JobFilter = {}) {
  const query = {
    ...(filter.state === undefined ? {} : { state: filter.state }),
    ...(filter.connectionId === undefined ? {} : { connectionId: filter.connectionId }),
    limit: String(filter.limit ?? 50),
  }
  return useQuery({
    queryKey: [...jobKeys.jobs(orgId, projectId), query] as const,
    queryFn: () => ok(project.jobs.$get({ param: { orgId, projectId }, query })),
    refetchInterval: (q) => whileLive(q.state.data?.jobs),
  })
}

/** One job with its events; refetched while it runs. */
export function useJob(orgId: string, projectId: string, jobId: string | undefined) {
  return useQuery({
    queryKey: jobKeys.job(orgId, projectId, jobId ?? ''),
    queryFn: () =>
      ok(project.jobs[':jobId'].$get({ param: { orgId, projectId, jobId: jobId ?? '' } })),
    enabled: jobId !== undefined,
    staleTime: 0,
    refetchInterval: (q) => (q.state.data !== undefined && isLive(q.state.data) ? 1_000 : false),
  })
}

export function useSnapshots(orgId: string, projectId: string, connectionId: string) {
  const query = { connectionId, limit: '50' }
  return useQuery({
    queryKey: [...jobKeys.snapshots(orgId, projectId), query] as const,
    queryFn: () => ok(project.snapshots.$get({ param: { orgId, projectId }, query })),
  })
}
