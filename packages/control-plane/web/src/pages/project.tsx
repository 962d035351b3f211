// /orgs/:orgId/projects/:projectId: a project and its connections, with links to its jobs and
// agents.

import { Button } from '@mantine/core'
import { Link, useParams } from 'react-router'
import { PageHeader } from '../components/page.tsx'
import { useProjects } from '../queries.ts'
import { ConnectionsSection } from './connections.tsx'

export function ProjectPage() {
  const { orgId = '', projectId = '' } = useParams()
  const project = useProjects(orgId).data?.projects.find((p) => p.id === projectId)
  const base = `/orgs/${orgId}/projects/${projectId}`
  return (
    <>
      <PageHeader
        title={project?.name ?? 'Project'}
        description={project === undefined ? undefined : `Slug ${project.slug}`}
        actions={
          <>
            <Button component={Link} to={`${base}/jobs`} variant="default">
              Jobs
            </Button>
            <Button component={Link} to={`${base}/agents`} variant="default">
              Agents
            </Button>
          </>
        }
      />
      <ConnectionsSection orgId={orgId} projectId={projectId} />
    </>
  )
}
