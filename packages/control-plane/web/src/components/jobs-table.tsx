// A table of jobs: kind, state, attempts, progress and times; a row opens the job's drawer.

import { Anchor, Code, Table, Text } from '@mantine/core'
import { durationBetween, formatTime } from '../format.ts'
import type { Job } from '../job-queries.ts'
import { describeProgress, JobStateBadge } from './job-state.tsx'

type JobRow = Omit<Job, 'events'>

export function JobsTable({
  jobs,
  onOpen,
  connectionName,
}: {
  jobs: readonly JobRow[]
  onOpen: (jobId: string) => void
  /** The name of a connection by id, for the Connection column; absent, the column is left out. */
  connectionName?: (connectionId: string) => string
}) {
  return (
    <Table striped highlightOnHover verticalSpacing="xs">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Job</Table.Th>
          <Table.Th>Kind</Table.Th>
          {connectionName !== undefined && <Table.Th>Connection</Table.Th>}
          <Table.Th>State</Table.Th>
          <Table.Th>Attempts</Table.Th>
          <Table.Th>Progress</Table.Th>
          <Table.Th>Created</Table.Th>
          <Table.Th>Duration</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {jobs.map((job) => (
          <Table.Tr key={job.id} data-testid="job-row" data-kind={job.kind}>
            <Table.Td>
              <Anchor
                component="button"
                type="button"
                onClick={() => onOpen(job.id)}
                aria-label={`Job ${job.id.slice(-8)}`}
              >
                <Code>{job.id.slice(-8)}</Code>
              </Anchor>
            </Table.Td>
            <Table.Td>{job.kind}</Table.Td>
            {connectionName !== undefined && (
              <Table.Td>
                {job.connectionId === null ? '—' : connectionName(job.connectionId)}
              </Table.Td>
            )}
            <Table.Td>
              <JobStateBadge state={job.state} />
            </Table.Td>
            <Table.Td>
              {job.attempts} / {job.maxAttempts}
            </Table.Td>
            <Table.Td>
              <Text size="sm" lineClamp={1}>
                {job.state === 'running' ? describeProgress(job.progress) : '—'}
              </Text>
            </Table.Td>
            <Table.Td>{formatTime(job.createdAt)}</Table.Td>
            <Table.Td>{durationBetween(job.startedAt, job.finishedAt)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  )
}
