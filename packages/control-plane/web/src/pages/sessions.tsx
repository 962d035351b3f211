// /sessions: where the user is signed in; end one session, the others, or all of them.

import { Badge, Button, Group, Table, Text, VisuallyHidden } from '@mantine/core'
import { modals } from '@mantine/modals'
import { notifications } from '@mantine/notifications'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useNavigate } from 'react-router'
import { api, ok } from '../api.ts'
import { ErrorAlert } from '../components/error-alert.tsx'
import { PageHeader, QueryView } from '../components/page.tsx'
import { describeUserAgent, formatTime } from '../format.ts'
import { keys, useSessions } from '../queries.ts'

export function SessionsPage() {
  const sessions = useSessions()
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const signedOut = async () => {
    queryClient.clear()
    await navigate('/login', { replace: true })
  }

  const revoke = useMutation({
    mutationFn: async ({ id }: { id: string; current: boolean }) =>
      ok(api.sessions[':id'].$delete({ param: { id } })),
    onSuccess: async (_, { current }) => {
      if (current) return signedOut()
      notifications.show({ message: 'Session ended', color: 'green' })
      await queryClient.invalidateQueries({ queryKey: keys.sessions })
    },
  })
  const revokeAll = useMutation({
    mutationFn: async (keepCurrent: boolean) =>
      ok(api.sessions.$delete({ query: keepCurrent ? { keepCurrent: 'true' } : {} })),
    onSuccess: async ({ revoked }, keepCurrent) => {
      if (!keepCurrent) return signedOut()
      notifications.show({ message: `${revoked} other session(s) ended`, color: 'green' })
      await queryClient.invalidateQueries({ queryKey: keys.sessions })
    },
  })
  const confirmLogoutEverywhere = () =>
    modals.openConfirmModal({
      title: 'Log out everywhere?',
      children: <Text size="sm">Every session ends, this one included.</Text>,
      labels: { confirm: 'Log out everywhere', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: () => revokeAll.mutate(false),
    })

  return (
    <>
      <PageHeader
        title="Sessions"
        description="The browsers and scripts signed in to your account."
        actions={
          <>
            <Button
              variant="default"
              onClick={() => revokeAll.mutate(true)}
              loading={revokeAll.isPending && revokeAll.variables}
            >
              Log out other sessions
            </Button>
            <Button color="red" onClick={confirmLogoutEverywhere}>
              Log out everywhere
            </Button>
          </>
        }
      />
      <ErrorAlert error={revoke.error ?? revokeAll.error} title="Not ended" />
      <QueryView query={sessions}>
        {({ sessions: list }) => (
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Client</Table.Th>
                <Table.Th>IP address</Table.Th>
                <Table.Th>Signed in</Table.Th>
                <Table.Th>Last seen</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((session) => (
                <Table.Tr key={session.id} data-testid="session-row">
                  <Table.Td>
                    <Group gap="xs">
                      <Text size="sm" title={session.userAgent ?? undefined}>
                        {describeUserAgent(session.userAgent)}
                      </Text>
                      {session.current && <Badge color="green">This session</Badge>}
                    </Group>
                  </Table.Td>
                  <Table.Td>{session.ip ?? '—'}</Table.Td>
                  <Table.Td>{formatTime(session.createdAt)}</Table.Td>
                  <Table.Td>{formatTime(session.lastSeenAt)}</Table.Td>
                  <Table.Td ta="right">
                    <Button
                      size="xs"
                      variant="light"
                      color="red"
                      loading={revoke.isPending && revoke.variables.id === session.id}
                      onClick={() => revoke.mutate({ id: session.id, current: session.current })}
                    >
                      {session.current ? 'Sign out' : 'Revoke'}
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </QueryView>
    </>
  )
}
