// A project's connections: the list (each links to its page), and adding, changing, testing and
// deleting them. Adding or changing one runs the connection test on an agent (connection-modal).

import {
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Modal,
  Table,
  Text,
  Title,
  VisuallyHidden,
} from '@mantine/core'
import { useDisclosure } from '@mantine/hooks'
import { modals } from '@mantine/modals'
import { notifications } from '@mantine/notifications'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { Link } from 'react-router'
import { api, ok } from '../api.ts'
import { ConnectionTestResult } from '../components/connection-test-result.tsx'
import { ErrorAlert } from '../components/error-alert.tsx'
import { Empty, QueryView } from '../components/page.tsx'
import { formatTime } from '../format.ts'
import { jobKeys } from '../job-queries.ts'
import { keys, useConnections } from '../queries.ts'
import { useCurrent } from '../shell/current.ts'
import { ConnectionModal, type ConnectionRow } from './connection-modal.tsx'

export function ConnectionsSection({ orgId, projectId }: { orgId: string; projectId: string }) {
  const connections = useConnections(orgId, projectId)
  // Read-only members see the connections; changing or testing them takes `connections:write`.
  const canWrite = useCurrent().org?.role !== 'read-only'
  const queryClient = useQueryClient()
  const [addOpened, addModal] = useDisclosure()
  const [editing, setEditing] = useState<ConnectionRow>()
  const [testing, setTesting] = useState<{ name: string; jobId: string }>()

  const test = useMutation({
    mutationFn: async (connection: ConnectionRow) => {
      const { job } = await ok(
        api.orgs[':orgId'].projects[':projectId'].connections[':connectionId'].tests.$post({
          param: { orgId, projectId, connectionId: connection.id },
        }),
      )
      return { name: connection.name, jobId: job.id }
    },
    onSuccess: async (started) => {
      setTesting(started)
      await queryClient.invalidateQueries({ queryKey: jobKeys.jobs(orgId, projectId) })
    },
  })
  const remove = useMutation({
    mutationFn: (connection: ConnectionRow) =>
      ok(
        api.orgs[':orgId'].projects[':projectId'].connections[':connectionId'].$delete({
          param: { orgId, projectId, connectionId: connection.id },
        }),
      ),
    onSuccess: async () => {
      notifications.show({ message: 'Connection deleted', color: 'green' })
      await queryClient.invalidateQueries({ queryKey: keys.connections(orgId, projectId) })
    },
  })
  const confirmDelete = (connection: ConnectionRow) =>
    modals.openConfirmModal({
      title: `Delete “${connection.name}”?`,
      children: (
        <Text size="sm">
          Its credential is deleted. Snapshots already taken stay in the agents’ repositories.
        </Text>
      ),
      labels: { confirm: 'Delete', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: () => remove.mutate(connection),
    })

  return (
    <>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          Connections
        </Title>
        {canWrite && (
          <Button size="sm" onClick={addModal.open}>
            Add connection
          </Button>
        )}
      </Group>
      <ErrorAlert error={test.error ?? remove.error} title="Not done" />
      <QueryView query={connections}>
        {({ connections: list }) =>
          list.length === 0 ? (
            <Empty>No connection yet: add the database to snapshot.</Empty>
          ) : (
            <Table striped verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Engine</Table.Th>
                  <Table.Th>Target</Table.Th>
                  <Table.Th>TLS</Table.Th>
                  <Table.Th>Updated</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((connection) => (
                  <Table.Tr key={connection.id} data-testid="connection-row">
                    <Table.Td>
                      <Anchor
                        component={Link}
                        to={`/orgs/${orgId}/projects/${projectId}/connections/${connection.id}`}
                      >
                        {connection.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light" styles={{ label: { overflow: 'visible' } }}>
                        {connection.engine}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Code style={{ wordBreak: 'break-all' }}>
                        {connection.url ?? connection.ref}
                      </Code>
                    </Table.Td>
                    <Table.Td>{connection.tls ? 'yes' : 'no'}</Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      {formatTime(connection.updatedAt)}
                    </Table.Td>
                    <Table.Td>
                      {canWrite && (
                        <Group gap="xs" wrap="nowrap" justify="flex-end">
                          <Button
                            size="xs"
                            variant="light"
                            loading={test.isPending && test.variables.id === connection.id}
                            onClick={() => test.mutate(connection)}
                          >
                            Test
                          </Button>
                          <Button size="xs" variant="light" onClick={() => setEditing(connection)}>
                            Edit
                          </Button>
                          <Button
                            size="xs"
                            variant="light"
                            color="red"
                            onClick={() => confirmDelete(connection)}
                          >
                            Delete
                          </Button>
                        </Group>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryView>
      <ConnectionModal
        orgId={orgId}
        projectId={projectId}
        opened={addOpened}
        onClose={addModal.close}
      />
      {editing !== undefined && (
        <ConnectionModal
          key={editing.id}
          orgId={orgId}
          projectId={projectId}
          connection={editing}
          opened
          onClose={() => setEditing(undefined)}
        />
      )}
      <Modal
        opened={testing !== undefined}
        onClose={() => setTesting(undefined)}
        title={`Testing “${testing?.name ?? ''}”`}
        size="lg"
      >
        {testing !== undefined && (
          <ConnectionTestResult orgId={orgId} projectId={projectId} jobId={testing.jobId} />
        )}
      </Modal>
    </>
  )
}
