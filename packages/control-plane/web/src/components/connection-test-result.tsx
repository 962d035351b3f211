// A connection test's outcome, followed live: waiting for an agent, testing, then the server's
// description (the engine's sanitized metadata: product, version, database, size, objects, the
// user and any privileges beyond what a snapshot needs) or the error with its code.

import { Alert, Badge, Code, Group, Loader, Stack, Table, Text } from '@mantine/core'
import { formatBytes, formatDuration } from '../format.ts'
import { useJob } from '../job-queries.ts'
import { ErrorAlert } from './error-alert.tsx'

/** After this long pending, the page wonders aloud whether any agent is running. */
const AGENT_HINT_AFTER_MS = 10_000

/** The engine's ConnectionTestResult, as far as the page shows it. */
interface ServerDescription {
  product?: string
  serverVersion?: string
  host?: string
  port?: number
  database?: string | null
  sizeBytes?: number | null
  objects?: Record<string, number>
  currentUser?: string | null
  superuser?: boolean
  excessPrivileges?: string[] | null
  elapsedMs?: number
}

export function ConnectionTestResult({
  orgId,
  projectId,
  jobId,
}: {
  orgId: string
  projectId: string
  jobId: string
}) {
  const job = useJob(orgId, projectId, jobId)
  if (job.isError) return <ErrorAlert error={job.error} title="The test cannot be read" />
  if (job.isPending || job.data.state === 'pending' || job.data.state === 'running') {
    const waiting = job.data?.state !== 'running'
    // The job is read every second while pending, so this check runs again as time passes.
    const longWait =
      waiting &&
      job.data !== undefined &&
      Date.now() - Date.parse(job.data.createdAt) > AGENT_HINT_AFTER_MS
    return (
      <Stack gap="xs" data-testid="connection-test-pending">
        <Group gap="sm">
          <Loader size="sm" />
          <Text size="sm">
            {waiting ? 'Waiting for an agent to run the test…' : 'Testing the connection…'}
          </Text>
        </Group>
        {longWait && (
          <Text size="xs" c="dimmed">
            No agent has taken it yet. Is one running for this project? The Agents page shows when
            each was last seen.
          </Text>
        )}
      </Stack>
    )
  }
  const { state, error, result } = job.data
  if (state !== 'succeeded') {
    return (
      <Alert color="red" title="Connection test failed" role="alert" data-testid="connection-test">
        <Text size="sm">{error?.message ?? `The test ended ${state}.`}</Text>
        {error !== null && (
          <Text size="xs" c="dimmed" mt={4}>
            <Code>{error.code}</Code>
          </Text>
        )}
      </Alert>
    )
  }
  return <ServerFacts server={(result ?? {}) as ServerDescription} />
}

function ServerFacts({ server }: { server: ServerDescription }) {
  const objects = Object.entries(server.objects ?? {})
    .map(([name, count]) => `${count.toLocaleString()} ${name}`)
    .join(', ')
  const privileges = server.superuser
    ? 'superuser: more than a snapshot needs'
    : server.excessPrivileges === null || server.excessPrivileges === undefined
      ? 'not reported by the server'
      : server.excessPrivileges.length === 0
        ? 'read-only: enough for snapshots and nothing more'
        : `more than a snapshot needs: ${server.excessPrivileges.join(', ')}`
  const rows: [string, string][] = [
    ['Server', `${server.product ?? '?'} ${server.serverVersion ?? ''}`.trim()],
    ['Address', `${server.host ?? '?'}:${server.port ?? '?'}`],
    [
      'Database',
      `${server.database ?? 'the whole server'}${
        server.sizeBytes == null ? '' : ` (${formatBytes(server.sizeBytes)})`
      }`,
    ],
    ['Objects', objects === '' ? '—' : objects],
    ['User', server.currentUser ?? '—'],
    ['Privileges', privileges],
  ]
  return (
    <Alert
      color="green"
      title={
        <Group gap="xs">
          Connected
          {server.elapsedMs !== undefined && (
            <Badge variant="light" color="green">
              {formatDuration(server.elapsedMs)}
            </Badge>
          )}
        </Group>
      }
      data-testid="connection-test"
    >
      <Table withRowBorders={false} verticalSpacing={2}>
        <Table.Tbody>
          {rows.map(([label, value]) => (
            <Table.Tr key={label}>
              <Table.Th w={110} fw={500}>
                {label}
              </Table.Th>
              <Table.Td>{value}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Alert>
  )
}
