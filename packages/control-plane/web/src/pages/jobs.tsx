// /orgs/:orgId/projects/:projectId/jobs: the project's jobs, newest first, filtered by state
// (`dead` is the dead-letter queue); live while any is pending or running; a row opens the
// job's drawer (events, error, cancel, redrive).

import { Group, SegmentedControl } from '@mantine/core'
import { useState } from 'react'
import { useParams } from 'react-router'
import { JobsTable } from '../components/jobs-table.tsx'
import { Empty, PageHeader, QueryView } from '../components/page.tsx'
import { useJobs, type JobState } from '../job-queries.ts'
import { useConnections } from '../queries.ts'
import { useCurrent } from '../shell/current.ts'
import { JobDrawer } from './job-drawer.tsx'

const FILTERS: { value: JobState | 'all'; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'pending', label: 'Pending' },
  { value: 'running', label: 'Running' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'failed', label: 'Failed' },
  { value: 'dead', label: 'Dead' },
  { value: 'cancelled', label: 'Cancelled' },
]

export function JobsPage() {
  const { orgId = '', projectId = '' } = useParams()
  const { org } = useCurrent()
  const [state, setState] = useState<JobState | 'all'>('all')
  const [openJob, setOpenJob] = useState<string>()
  const jobs = useJobs(orgId, projectId, state === 'all' ? {} : { state })
  const connections = useConnections(orgId, projectId)
  const connectionName = (id: string) =>
    connections.data?.connections.find((c) => c.id === id)?.name ?? id
  return (
    <>
      <PageHeader
        title="Jobs"
        description="Snapshots, tests and the other work the project's agents run; this page follows them live."
      />
      <Group mb="md">
        <SegmentedControl
          aria-label="State"
          data={FILTERS}
          value={state}
          onChange={(value) => setState(value)}
        />
      </Group>
      <QueryView query={jobs}>
        {({ jobs: list }) =>
          list.length === 0 ? (
            <Empty>{state === 'all' ? 'No job yet.' : `No ${state} job.`}</Empty>
          ) : (
            <JobsTable jobs={list} onOpen={setOpenJob} connectionName={connectionName} />
          )
        }
      </QueryView>
      <JobDrawer
        orgId={orgId}
        projectId={projectId}
        jobId={openJob}
        canCancel={org?.role !== 'read-only'}
        canRedrive={org?.role === 'admin'}
        onClose={() => setOpenJob(undefined)}
      />
    </>
  )
}
