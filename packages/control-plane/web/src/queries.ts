// The API reads the pages share, as TanStack Query hooks with one key scheme, so a change
// invalidates exactly the lists that show it.

import { useQuery } from '@tanstack/react-query'
import { api, ok } from './api.ts'

export const keys = {
  me: ['me'] as const,
  orgs: ['orgs'] as const,
  projects: (orgId: string) => ['orgs', orgId, 'projects'] as const,
  connections: (orgId: string, projectId: string) =>
    ['orgs', orgId, 'projects', projectId, 'connections'] as const,
  apiKeys: (orgId: string) => ['orgs', orgId, 'keys'] as const,
  sessions: ['sessions'] as const,
}

export function useMe() {
  return useQuery({ queryKey: keys.me, queryFn: () => ok(api.auth.me.$get()), retry: false })
}

export function useOrgs() {
  return useQuery({ queryKey: keys.orgs, queryFn: () => ok(api.orgs.$get()) })
}

export function useProjects(orgId: string | undefined) {
  return useQuery({
    queryKey: keys.projects(orgId ?? ''),
    queryFn: () => ok(api.orgs[':orgId'].projects.$get({ param: { orgId: orgId ?? '' } })),
    enabled: orgId !== undefined,
  })
}

export function useConnections(orgId: string, projectId: string) {
  return useQuery({
    queryKey: keys.connections(orgId, projectId),
    queryFn: () =>
      ok(
        api.orgs[':orgId'].projects[':projectId'].connections.$get({
          param: { orgId, projectId },
        }),
      ),
  })
}

export function useApiKeys(orgId: string) {
  return useQuery({
    queryKey: keys.apiKeys(orgId),
    queryFn: () => ok(api.orgs[':orgId'].keys.$get({ param: { orgId }, query: {} })),
  })
}

export function useSessions() {
  return useQuery({ queryKey: keys.sessions, queryFn: () => ok(api.sessions.$get()) })
}
