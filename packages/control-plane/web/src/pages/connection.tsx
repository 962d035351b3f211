// /orgs/:orgId/projects/:projectId/connections/:connectionId: one connection — its snapshots
// (from the catalogue the agents fill), "Snapshot now", diffs of its snapshots (with the previous
// one, with the live database, or between two picked), its diffs, and its recent jobs, which
// refresh while one is pending or running; when a snapshot job succeeds the snapshots table is
// read again.

import {
  Anchor,
  Badge,
  Button,
  Checkbox,
  Code,
  Group,
  Menu,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { Link, useParams } from 'react-router'
import { api, ok } from '../api.ts'
import { ErrorAlert } from '../components/error-alert.tsx'
import { JobsTable } from '../components/jobs-table.tsx'
import { Empty, PageHeader, QueryView } from '../components/page.tsx'
import { formatBytes, formatCount, formatDuration, formatTime } from '../format.ts'
import { jobKeys, useConnection, useJobs, useSnapshots, type Snapshot } from '../job-queries.ts'
import { useCurrent } from '../shell/current.ts'
import { ConnectionDiffs, useDiffAndOpen } from './connection-diffs.tsx'
import { ConnectionSchedules } from './connection-schedules.tsx'
import { JobDrawer } from './job-drawer.tsx'

export function ConnectionPage() {
  const { orgId = '', projectId = '', connectionId = '' } = useParams()
  const { org } = useCurrent()
  const queryClient = useQueryClient()
  const connection = useConnection(orgId, projectId, connectionId)
  const snapshots = useSnapshots(orgId, projectId, connectionId)
  const jobs = useJobs(orgId, projectId, { connectionId, limit: 10 })
  const [openJob, setOpenJob] = useState<string>()

  // A snapshot job that succeeded has put its snapshot in the catalogue: read it again.
  const succeeded = (jobs.data?.jobs ?? [])
    .filter((job) => job.kind === 'snapshot' && job.state === 'succeeded')
    .map((job) => job.id)
    .join()
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: jobKeys.snapshots(orgId, projectId) })
  }, [succeeded, queryClient, orgId, projectId])

  const snapshotNow = useMutation({
    mutationFn: () =>
      ok(
        api.orgs[':orgId'].projects[':projectId'].connections[':connectionId'].snapshots.$post({
          param: { orgId, projectId, connectionId },
          json: {},
        }),
      ),
    onSuccess: async () => {
      notifications.show({ message: 'Snapshot queued for an agent', color: 'green' })
      await queryClient.invalidateQueries({ queryKey: jobKeys.jobs(orgId, projectId) })
    },
  })

  const projectPath = `/orgs/${orgId}/projects/${projectId}`
  return (
    <>
      <PageHeader
        title={connection.data?.name ?? 'Connection'}
        description={
          connection.data === undefined ? undefined : (
            <>
              <Badge variant="light" mr="xs">
                {connection.data.engine}
              </Badge>
              <Code>{connection.data.url ?? connection.data.ref}</Code>
              {connection.data.tls ? ' · TLS' : ''} ·{' '}
              <Anchor component={Link} to={projectPath} size="sm" underline="always">
                all connections
              </Anchor>
            </>
          )
        }
        actions={
          org?.role === 'read-only' ? undefined : (
            <Button loading={snapshotNow.isPending} onClick={() => snapshotNow.mutate()}>
              Snapshot now
            </Button>
          )
        }
      />
      <ErrorAlert error={connection.error ?? snapshotNow.error} title="Not done" />
      <Stack gap="xl">
        <section>
          <Title order={2} size="h4" mb="sm">
            Snapshots
          </Title>
          <QueryView query={snapshots}>
            {({ snapshots: list }) =>
              list.length === 0 ? (
                <Empty>No snapshot yet: “Snapshot now” asks an agent for one.</Empty>
              ) : (
                <SnapshotsTable
                  orgId={orgId}
                  projectId={projectId}
                  snapshots={list}
                  canDiff={org?.role !== 'read-only'}
                />
              )
            }
          </QueryView>
        </section>
        <ConnectionDiffs orgId={orgId} projectId={projectId} connectionId={connectionId} />
        <section>
          <Group justify="space-between" mb="sm">
            <Title order={2} size="h4">
              Recent jobs
            </Title>
            <Anchor component={Link} to={`${projectPath}/jobs`} size="sm">
              All jobs of the project
            </Anchor>
          </Group>
          <QueryView query={jobs}>
            {({ jobs: list }) =>
              list.length === 0 ? (
                <Empty>No job yet.</Empty>
              ) : (
                <JobsTable jobs={list} onOpen={setOpenJob} />
              )
            }
          </QueryView>
        </section>
        <section>
          <ConnectionSchedules orgId={orgId} projectId={projectId} connectionId={connectionId} />
        </section>
      </Stack>
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

function SnapshotsTable({
  orgId,
  projectId,
  snapshots,
  canDiff,
}: {
  orgId: string
  projectId: string
  /** Newest first, as the catalogue lists them. */
  snapshots: readonly Snapshot[]
  /** Members and admins ask for diffs. */
  canDiff: boolean
}) {
  const [picked, setPicked] = useState<readonly string[]>([])
  const request = useDiffAndOpen(orgId, projectId)
  const pick = (id: string, on: boolean) =>
    setPicked((ids) =>
      on ? [...ids.filter((p) => p !== id), id].slice(-2) : ids.filter((p) => p !== id),
    )
  // The earlier of the two picked is `from`.
  const diffPicked = () => {
    const [to, from] = snapshots.filter((s) => picked.includes(s.id))
    if (from !== undefined && to !== undefined) request.diff({ from: from.id, to: to.id })
  }
  return (
    <Stack gap="xs">
      {canDiff && (
        <Group gap="sm">
          <Button
            size="xs"
            variant="light"
            disabled={picked.length !== 2}
            loading={request.isPending}
            onClick={diffPicked}
          >
            Diff the two picked snapshots
          </Button>
          <Text size="xs" c="dimmed">
            {picked.length === 2
              ? 'the earlier is the “from” side'
              : `pick two (${picked.length} picked)`}
          </Text>
        </Group>
      )}
      <ErrorAlert error={request.error} title="Diff not asked" />
      <Table striped verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            {canDiff && <Table.Th w={40}>Pick</Table.Th>}
            <Table.Th>Snapshot</Table.Th>
            <Table.Th>Taken</Table.Th>
            <Table.Th>Tables</Table.Th>
            <Table.Th>Rows</Table.Th>
            <Table.Th>Size</Table.Th>
            <Table.Th>New bytes</Table.Th>
            <Table.Th>Duration</Table.Th>
            <Table.Th>Status</Table.Th>
            {canDiff && <Table.Th>Diff</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {snapshots.map((snapshot, index) => (
            <Table.Tr key={snapshot.id} data-testid="snapshot-row">
              {canDiff && (
                <Table.Td>
                  <Checkbox
                    aria-label={`Pick snapshot ${snapshot.id.slice(0, 12)} to diff`}
                    checked={picked.includes(snapshot.id)}
                    onChange={(event) => pick(snapshot.id, event.currentTarget.checked)}
                  />
                </Table.Td>
              )}
              <Table.Td>
                <Tooltip label={`${snapshot.id} in ${snapshot.repository}`}>
                  <Code>{snapshot.id.slice(0, 12)}</Code>
                </Tooltip>
              </Table.Td>
              <Table.Td>{formatTime(snapshot.finishedAt)}</Table.Td>
              <Table.Td>{formatCount(snapshot.tables)}</Table.Td>
              <Table.Td>{formatCount(snapshot.rows)}</Table.Td>
              <Table.Td>{formatBytes(snapshot.bytes)}</Table.Td>
              <Table.Td>{formatBytes(snapshot.newBytes)}</Table.Td>
              <Table.Td>{formatDuration(snapshot.durationMs)}</Table.Td>
              <Table.Td>
                <SnapshotStatus snapshot={snapshot} />
              </Table.Td>
              {canDiff && (
                <Table.Td>
                  <Menu position="bottom-end">
                    <Menu.Target>
                      <Button
                        size="compact-xs"
                        variant="default"
                        loading={request.isPending}
                        aria-label={`Diff ${snapshot.id.slice(0, 12)}`}
                      >
                        Diff
                      </Button>
                    </Menu.Target>
                    <Menu.Dropdown>
                      <Menu.Item
                        disabled={snapshots[index + 1] === undefined}
                        onClick={() =>
                          request.diff({ from: snapshots[index + 1]!.id, to: snapshot.id })
                        }
                      >
                        with the previous snapshot
                      </Menu.Item>
                      <Menu.Item onClick={() => request.diff({ from: snapshot.id, live: true })}>
                        with the live database
                      </Menu.Item>
                    </Menu.Dropdown>
                  </Menu>
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  )
}

/** Complete, or with warnings; whether it reused data (deduplicated against earlier ones). */
function SnapshotStatus({ snapshot }: { snapshot: Snapshot }) {
  const reused = snapshot.chunks === 0 ? 0 : snapshot.reusedChunks / snapshot.chunks
  return (
    <Group gap={4} wrap="nowrap">
      {snapshot.warnings.length === 0 ? (
        <Badge color="green" variant="dot">
          complete
        </Badge>
      ) : (
        <Tooltip label={snapshot.warnings.join('\n')} multiline w={360}>
          <Badge color="yellow" variant="dot">
            {snapshot.warnings.length} warning{snapshot.warnings.length === 1 ? '' : 's'}
          </Badge>
        </Tooltip>
      )}
      {reused > 0 && (
        <Tooltip label="Share of its chunks already in the repository">
          <Badge color="gray" variant="light">
            {Math.round(reused * 100)}% reused
          </Badge>
        </Tooltip>
      )}
      {Object.entries(snapshot.tags).map(([name, value]) => (
        <Badge key={name} color="indigo" variant="outline" tt="none">
          <Text span size="xs">
            {name}={value}
          </Text>
        </Badge>
      ))}
    </Group>
  )
}
