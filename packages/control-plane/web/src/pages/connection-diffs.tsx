// The diffs of a connection: asking for one from its snapshots table (with the previous snapshot,
// with the live database, or between two picked snapshots), which opens the diff's page, and the
// list of its latest diffs.

import { Anchor, Badge, Code, Table, Text, Title } from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { Link, useNavigate } from 'react-router'
import { JobStateBadge } from '../components/job-state.tsx'
import { Empty, QueryView } from '../components/page.tsx'
import { useDiffs, useRequestDiff, type Diff, type DiffRequest } from '../diff-queries.ts'
import { formatTime } from '../format.ts'

/** Asks for a diff and opens its page, which follows the job. */
export function useDiffAndOpen(orgId: string, projectId: string) {
  const navigate = useNavigate()
  const request = useRequestDiff(orgId, projectId)
  return {
    ...request,
    diff: (json: DiffRequest) =>
      request.mutate(json, {
        onSuccess: ({ diff }) => {
          notifications.show({ message: 'Diff queued for an agent', color: 'green' })
          void navigate(`/orgs/${orgId}/projects/${projectId}/diffs/${diff.id}`)
        },
      }),
  }
}

export function ConnectionDiffs({
  orgId,
  projectId,
  connectionId,
}: {
  orgId: string
  projectId: string
  connectionId: string
}) {
  const diffs = useDiffs(orgId, projectId, connectionId)
  return (
    <section>
      <Title order={2} size="h4" mb="sm">
        Diffs
      </Title>
      <QueryView query={diffs}>
        {({ diffs: list }) =>
          list.length === 0 ? (
            <Empty>
              No diff yet: pick two snapshots above, or diff one with the live database.
            </Empty>
          ) : (
            <Table striped highlightOnHover verticalSpacing="xs" data-testid="diffs-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Diff</Table.Th>
                  <Table.Th>From</Table.Th>
                  <Table.Th>To</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th>Changes</Table.Th>
                  <Table.Th>Asked</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((diff) => (
                  <Table.Tr key={diff.id} data-testid="diff-row">
                    <Table.Td>
                      <Anchor
                        component={Link}
                        to={`/orgs/${orgId}/projects/${projectId}/diffs/${diff.id}`}
                        aria-label={`Diff ${diff.id.slice(-8)}`}
                      >
                        <Code>{diff.id.slice(-8)}</Code>
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Code>{diff.from.snapshotId.slice(0, 12)}</Code>
                    </Table.Td>
                    <Table.Td>
                      {'snapshotId' in diff.to ? (
                        <Code>{diff.to.snapshotId.slice(0, 12)}</Code>
                      ) : (
                        <Badge color="teal.9" tt="none">
                          live
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <JobStateBadge state={diff.state} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{describeChanges(diff)}</Text>
                    </Table.Td>
                    <Table.Td>{formatTime(diff.createdAt)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryView>
    </section>
  )
}

/** `2 schema · +1 −1 ~2 rows`, once the diff succeeded. */
function describeChanges(diff: Diff): string {
  const summary = diff.summary as {
    schemaChanges?: number
    rows?: { added?: number; removed?: number; modified?: number }
  } | null
  if (summary === null) return '—'
  const rows = summary.rows ?? {}
  const n = (value: number | undefined) => (value ?? 0).toLocaleString()
  return `${n(summary.schemaChanges)} schema · +${n(rows.added)} −${n(rows.removed)} ~${n(rows.modified)} rows`
}
