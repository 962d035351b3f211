// The web view's pages and their paths. Pages under the shell need a signed-in user; the
// others (login, register, first-run setup) do not.

import type { QueryClient } from '@tanstack/react-query'
import { createBrowserRouter, Navigate } from 'react-router'
import { prefetchDiff } from './diff-queries.ts'
import { AgentsPage } from './pages/agents.tsx'
import { ApiKeysPage } from './pages/api-keys.tsx'
import { ConnectionPage } from './pages/connection.tsx'
import { DiffPage } from './pages/diff.tsx'
import { HomePage } from './pages/home.tsx'
import { JobsPage } from './pages/jobs.tsx'
import { LoginPage } from './pages/login.tsx'
import { NotFoundPage } from './pages/not-found.tsx'
import { ProjectPage } from './pages/project.tsx'
import { ProjectsPage } from './pages/projects.tsx'
import { RegisterPage } from './pages/register.tsx'
import { SessionsPage } from './pages/sessions.tsx'
import { SetupPage } from './pages/setup.tsx'
import { Shell } from './shell/shell.tsx'

export function createAppRouter(queryClient: QueryClient) {
  return createBrowserRouter([
    { path: '/login', element: <LoginPage /> },
    { path: '/register', element: <RegisterPage /> },
    { path: '/setup', element: <SetupPage /> },
    {
      path: '/',
      element: <Shell />,
      children: [
        { index: true, element: <HomePage /> },
        { path: 'sessions', element: <SessionsPage /> },
        { path: 'orgs/:orgId', element: <Navigate to="projects" replace /> },
        { path: 'orgs/:orgId/projects', element: <ProjectsPage /> },
        { path: 'orgs/:orgId/projects/:projectId', element: <ProjectPage /> },
        {
          path: 'orgs/:orgId/projects/:projectId/connections/:connectionId',
          element: <ConnectionPage />,
        },
        {
          path: 'orgs/:orgId/projects/:projectId/diffs/:diffId',
          element: <DiffPage />,
          // Not awaited: the page renders at once and finds its data on the way.
          loader: ({ params, request }) => {
            prefetchDiff(queryClient, params, new URL(request.url))
            return null
          },
        },
        { path: 'orgs/:orgId/projects/:projectId/jobs', element: <JobsPage /> },
        { path: 'orgs/:orgId/projects/:projectId/agents', element: <AgentsPage /> },
        { path: 'orgs/:orgId/keys', element: <ApiKeysPage /> },
        { path: '*', element: <NotFoundPage /> },
      ],
    },
  ])
}
