// /orgs/:orgId/keys: the organisation's API keys; create (the secret shown once), rotate, revoke.

import { Badge, Button, Code, Group, Modal, Table, Text, VisuallyHidden } from '@mantine/core'
import { useDisclosure } from '@mantine/hooks'
import { modals } from '@mantine/modals'
import { notifications } from '@mantine/notifications'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useParams } from 'react-router'
import { api, ok } from '../api.ts'
import { ErrorAlert } from '../components/error-alert.tsx'
import { Empty, PageHeader, QueryView } from '../components/page.tsx'
import { SecretOnce } from '../components/secret-once.tsx'
import { formatTime } from '../format.ts'
import { keys, useApiKeys, useProjects } from '../queries.ts'
import { CreateKeyModal } from './create-key-modal.tsx'

interface KeyRow {
  id: string
  name: string
  prefix: string
  expiresAt: string | null
  revokedAt: string | null
}

function status(key: KeyRow): { label: string; color: string } {
  if (key.revokedAt !== null) return { label: 'revoked', color: 'gray' }
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= Date.now()) {
    return { label: 'expired', color: 'gray' }
  }
  return { label: 'active', color: 'green' }
}

export function ApiKeysPage() {
  const { orgId = '' } = useParams()
  const apiKeys = useApiKeys(orgId)
  const projects = useProjects(orgId)
  const queryClient = useQueryClient()
  const [createOpened, createModal] = useDisclosure()
  const [rotatedSecret, setRotatedSecret] = useState<string>()
  const projectName = (id: string) => projects.data?.projects.find((p) => p.id === id)?.name ?? id
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.apiKeys(orgId) })

  const rotate = useMutation({
    mutationFn: (keyId: string) =>
      ok(api.orgs[':orgId'].keys[':keyId'].rotate.$post({ param: { orgId, keyId }, json: {} })),
    onSuccess: async (created) => {
      setRotatedSecret(created.secret)
      await refresh()
    },
  })
  const revoke = useMutation({
    mutationFn: (keyId: string) =>
      ok(api.orgs[':orgId'].keys[':keyId'].$delete({ param: { orgId, keyId } })),
    onSuccess: async () => {
      notifications.show({ message: 'Key revoked', color: 'green' })
      await refresh()
    },
  })
  const confirm = (key: KeyRow, action: 'rotate' | 'revoke') =>
    modals.openConfirmModal({
      title: action === 'rotate' ? `Rotate “${key.name}”?` : `Revoke “${key.name}”?`,
      children: (
        <Text size="sm">
          {action === 'rotate'
            ? 'A new key replaces it; the old one keeps working for one more day.'
            : 'The key stops working at once. This cannot be undone.'}
        </Text>
      ),
      labels: { confirm: action === 'rotate' ? 'Rotate' : 'Revoke', cancel: 'Cancel' },
      confirmProps: { color: action === 'rotate' ? 'indigo' : 'red' },
      onConfirm: () => (action === 'rotate' ? rotate.mutate(key.id) : revoke.mutate(key.id)),
    })

  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys let scripts, CI jobs and agents call the API without your password."
        actions={<Button onClick={createModal.open}>New API key</Button>}
      />
      <ErrorAlert error={rotate.error ?? revoke.error} title="Not done" />
      <QueryView query={apiKeys}>
        {({ keys: list }) =>
          list.length === 0 ? (
            <Empty>No API key yet.</Empty>
          ) : (
            <Table striped verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Prefix</Table.Th>
                  <Table.Th>Scopes</Table.Th>
                  <Table.Th>Project</Table.Th>
                  <Table.Th>Last used</Table.Th>
                  <Table.Th>Expires</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((key) => {
                  const { label, color } = status(key)
                  return (
                    <Table.Tr key={key.id} data-testid="api-key-row">
                      <Table.Td>{key.name}</Table.Td>
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>
                        <Code>{key.prefix}…</Code>
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4}>
                          {key.scopes.map((scope) => (
                            <Badge key={scope} variant="light" size="sm">
                              {scope}
                            </Badge>
                          ))}
                        </Group>
                      </Table.Td>
                      <Table.Td>
                        {key.projectId === null ? 'All' : projectName(key.projectId)}
                      </Table.Td>
                      <Table.Td>{formatTime(key.lastUsedAt, 'never')}</Table.Td>
                      <Table.Td>{formatTime(key.expiresAt, 'never')}</Table.Td>
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>
                        <Badge
                          color={color}
                          variant="dot"
                          styles={{ label: { overflow: 'visible' } }}
                        >
                          {label}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        {label === 'active' && (
                          <Group gap="xs" wrap="nowrap" justify="flex-end">
                            <Button
                              size="xs"
                              variant="light"
                              onClick={() => confirm(key, 'rotate')}
                            >
                              Rotate
                            </Button>
                            <Button
                              size="xs"
                              variant="light"
                              color="red"
                              onClick={() => confirm(key, 'revoke')}
                            >
                              Revoke
                            </Button>
                          </Group>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  )
                })}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryView>
      <CreateKeyModal orgId={orgId} opened={createOpened} onClose={createModal.close} />
      <Modal
        opened={rotatedSecret !== undefined}
        onClose={() => setRotatedSecret(undefined)}
        title="The rotated key"
        size="lg"
      >
        {rotatedSecret !== undefined && (
          <SecretOnce secret={rotatedSecret} onDone={() => setRotatedSecret(undefined)} />
        )}
      </Modal>
    </>
  )
}
