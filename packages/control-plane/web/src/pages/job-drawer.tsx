// A job's drawer: its state, spec, progress, result, error and history (events), with cancel
// for a job that has not ended and redrive for a dead one. It refetches while the job runs.

import { Button, Code, Drawer, Group, Stack, Table, Text, Title } from '@mantine/core'
import { modals } from '@mantine/modals'
import { notifications } from '@mantine/notifications'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { api, ok } from '../api.ts'
import { ErrorAlert } from '../components/error-alert.tsx'
import { describeProgress, JobStateBadge } from '../components/job-state.tsx'
import { QueryView } from '../components/page.tsx'
import { formatTime } from '../format.ts'
import { isLive, jobKeys, useJob } from '../job-queries.ts'

const json = (value: unknown) => JSON.stringify(value, null, 2)

export function JobDrawer({
  orgId,
  projectId,
  jobId,
  canCancel,
  canRedrive,
  onClose,
}: {
  orgId: string
  projectId: string
  jobId: string | undefined
  /** Members and admins cancel jobs. */
  canCancel: boolean
  /** Admins redrive dead jobs. */
  canRedrive: boolean
  onClose: () => void
}) {
  const job = useJob(orgId, projectId, jobId)
  const queryClient = useQueryClient()
  const refresh = () => queryClient.invalidateQueries({ queryKey: jobKeys.jobs(orgId, projectId) })
  const cancel = useMutation({
    mutationFn: (id: string) =>
      ok(
        api.orgs[':orgId'].projects[':projectId'].jobs[':jobId'].cancel.$post({
          param: { orgId, projectId, jobId: id },
        }),
      ),
    onSuccess: async (cancelled) => {
      notifications.show({
        message: cancelled.state === 'cancelled' ? 'Job cancelled' : 'The agent is asked to stop',
        color: 'green',
      })
      await refresh()
    },
  })
  const redrive = useMutation({
    mutationFn: (id: string) =>
      ok(
        api.orgs[':orgId'].projects[':projectId'].jobs.redrive.$post({
          param: { orgId, projectId },
          json: { ids: [id] },
        }),
      ),
    onSuccess: async () => {
      notifications.show({ message: 'Job put back in the queue', color: 'green' })
      await refresh()
    },
  })
  const confirmCancel = (id: string) =>
    modals.openConfirmModal({
      title: 'Cancel this job?',
      children: (
        <Text size="sm">
          A pending job is cancelled at once; a running one stops at its next heartbeat.
        </Text>
      ),
      labels: { confirm: 'Cancel job', cancel: 'Keep it' },
      confirmProps: { color: 'red' },
      onConfirm: () => cancel.mutate(id),
    })

  return (
    <Drawer
      opened={jobId !== undefined}
      onClose={onClose}
      position="right"
      size="xl"
      title={jobId === undefined ? 'Job' : `Job ${jobId}`}
    >
      <QueryView query={job}>
        {(j) => (
          <Stack>
            <Group justify="space-between">
              <Group gap="xs">
                <JobStateBadge state={j.state} />
                <Text size="sm">
                  {j.kind} · attempt {j.attempts} of {j.maxAttempts}
                  {j.cancelRequested && j.state === 'running' ? ' · stopping' : ''}
                </Text>
              </Group>
              <Group gap="xs">
                {canCancel && isLive(j) && !j.cancelRequested && (
                  <Button
                    size="xs"
                    color="red"
                    variant="light"
                    loading={cancel.isPending}
                    onClick={() => confirmCancel(j.id)}
                  >
                    Cancel
                  </Button>
                )}
                {j.state === 'dead' && canRedrive && (
                  <Button
                    size="xs"
                    variant="light"
                    loading={redrive.isPending}
                    onClick={() => redrive.mutate(j.id)}
                  >
                    Redrive
                  </Button>
                )}
              </Group>
            </Group>
            <ErrorAlert error={cancel.error ?? redrive.error} title="Not done" />
            <Table withRowBorders={false} verticalSpacing={2}>
              <Table.Tbody>
                {(
                  [
                    ['Created', `${formatTime(j.createdAt)} by ${j.createdBy}`],
                    ['Started', formatTime(j.startedAt)],
                    ['Finished', formatTime(j.finishedAt)],
                    ['Agent', j.agentId ?? '—'],
                    ['Progress', describeProgress(j.progress)],
                  ] as const
                ).map(([label, value]) => (
                  <Table.Tr key={label}>
                    <Table.Th w={100}>{label}</Table.Th>
                    <Table.Td>{value}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            {j.error !== null && <ErrorBlock error={j.error} />}
            {j.result !== null && (
              <>
                <Title order={3} size="h5">
                  Result
                </Title>
                <Code block>{json(j.result)}</Code>
              </>
            )}
            <Title order={3} size="h5">
              Spec
            </Title>
            <Code block>{json(j.spec)}</Code>
            <Title order={3} size="h5">
              History
            </Title>
            <Table striped verticalSpacing={4} data-testid="job-events">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Time</Table.Th>
                  <Table.Th>Event</Table.Th>
                  <Table.Th>Attempt</Table.Th>
                  <Table.Th>Details</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {j.events.map((event, index) => (
                  <Table.Tr key={`${event.at}-${index}`}>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatTime(event.at)}</Table.Td>
                    <Table.Td>{event.type}</Table.Td>
                    <Table.Td>{event.attempt}</Table.Td>
                    <Table.Td>
                      {Object.keys(event.details).length === 0 ? (
                        '—'
                      ) : (
                        <Code>{JSON.stringify(event.details)}</Code>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Stack>
        )}
      </QueryView>
    </Drawer>
  )
}

function ErrorBlock({ error }: { error: { code: string; message: string; stack?: string } }) {
  return (
    <Stack gap={4}>
      <Title order={3} size="h5">
        Error
      </Title>
      <Text size="sm" c="red" role="alert">
        <Code>{error.code}</Code> {error.message}
      </Text>
      {error.stack !== undefined && <Code block>{error.stack}</Code>}
    </Stack>
  )
}
