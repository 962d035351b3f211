// /orgs/:orgId/projects/:projectId/agents: the agents that run the project's jobs. An admin
// creates one and is shown its one-time registration token once, with the commands to run where
// the agent lives; the list shows whether each registered, when it was last seen, its version
// and host; revoking one refuses its credential at once.

import {
  Alert,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  VisuallyHidden,
} from '@mantine/core'
import { useForm } from '@mantine/form'
import { useDisclosure } from '@mantine/hooks'
import { modals } from '@mantine/modals'
import { notifications } from '@mantine/notifications'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useParams } from 'react-router'
import { api, ok } from '../api.ts'
import { ErrorAlert, fieldErrors } from '../components/error-alert.tsx'
import { Empty, PageHeader, QueryView } from '../components/page.tsx'
import { formatTime } from '../format.ts'
import { jobKeys, useAgents, type Agent } from '../job-queries.ts'
import { useCurrent } from '../shell/current.ts'

function status(agent: Agent): { label: string; color: string } {
  if (agent.revokedAt !== null) return { label: 'revoked', color: 'gray' }
  if (!agent.registered) return { label: 'not registered', color: 'yellow' }
  return { label: 'registered', color: 'green' }
}

export function AgentsPage() {
  const { orgId = '', projectId = '' } = useParams()
  const { org } = useCurrent()
  const isAdmin = org?.role === 'admin'
  const agents = useAgents(orgId, projectId)
  const queryClient = useQueryClient()
  const [createOpened, createModal] = useDisclosure()
  const revoke = useMutation({
    mutationFn: (agentId: string) =>
      ok(
        api.orgs[':orgId'].projects[':projectId'].agents[':agentId'].$delete({
          param: { orgId, projectId, agentId },
        }),
      ),
    onSuccess: async () => {
      notifications.show({ message: 'Agent revoked', color: 'green' })
      await queryClient.invalidateQueries({ queryKey: jobKeys.agents(orgId, projectId) })
    },
  })
  const confirmRevoke = (agent: Agent) =>
    modals.openConfirmModal({
      title: `Revoke “${agent.name}”?`,
      children: (
        <Text size="sm">
          Its credential stops working at once and the jobs it runs go back to the queue. This
          cannot be undone: a new agent needs a new token.
        </Text>
      ),
      labels: { confirm: 'Revoke', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: () => revoke.mutate(agent.id),
    })

  return (
    <>
      <PageHeader
        title="Agents"
        description="Agents run next to your databases and take the project's jobs: snapshots, tests, restores."
        actions={isAdmin ? <Button onClick={createModal.open}>New agent</Button> : undefined}
      />
      <ErrorAlert error={revoke.error} title="Not revoked" />
      <QueryView query={agents}>
        {({ agents: list }) =>
          list.length === 0 ? (
            <Empty>
              No agent of this project yet. On SQLite the control plane’s embedded agent runs its
              jobs; add one to run them inside the databases’ network.
            </Empty>
          ) : (
            <Table striped verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Last seen</Table.Th>
                  <Table.Th>Version</Table.Th>
                  <Table.Th>Host</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((agent) => {
                  const { label, color } = status(agent)
                  return (
                    <Table.Tr key={agent.id} data-testid="agent-row">
                      <Table.Td>{agent.name}</Table.Td>
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>
                        <Badge
                          color={color}
                          variant="dot"
                          styles={{ label: { overflow: 'visible' } }}
                        >
                          {label}
                        </Badge>
                      </Table.Td>
                      <Table.Td>{formatTime(agent.lastSeenAt, 'never')}</Table.Td>
                      <Table.Td>{agent.version ?? '—'}</Table.Td>
                      <Table.Td>{agent.hostname ?? '—'}</Table.Td>
                      <Table.Td>{formatTime(agent.createdAt)}</Table.Td>
                      <Table.Td>
                        {isAdmin && agent.revokedAt === null && (
                          <Group justify="flex-end">
                            <Button
                              size="xs"
                              variant="light"
                              color="red"
                              onClick={() => confirmRevoke(agent)}
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
      <CreateAgentModal
        orgId={orgId}
        projectId={projectId}
        opened={createOpened}
        onClose={createModal.close}
      />
    </>
  )
}

function CreateAgentModal({
  orgId,
  projectId,
  opened,
  onClose,
}: {
  orgId: string
  projectId: string
  opened: boolean
  onClose: () => void
}) {
  const queryClient = useQueryClient()
  const form = useForm({
    initialValues: { name: '' },
    validate: { name: (value) => (value.trim() === '' ? 'Enter a name' : null) },
  })
  const create = useMutation({
    mutationFn: (values: { name: string }) =>
      ok(
        api.orgs[':orgId'].projects[':projectId'].agents.$post({
          param: { orgId, projectId },
          json: { name: values.name.trim() },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: jobKeys.agents(orgId, projectId) }),
    onError: (error) => form.setErrors(fieldErrors(error)),
  })
  const close = () => {
    form.reset()
    create.reset()
    onClose()
  }
  const made = create.data
  return (
    <Modal
      opened={opened}
      onClose={close}
      title={made === undefined ? 'New agent' : `Set up “${made.agent.name}”`}
      size="xl"
    >
      {made !== undefined ? (
        <AgentCommands
          command={made.command}
          token={made.registrationToken}
          expiresAt={made.expiresAt}
          onDone={close}
        />
      ) : (
        <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
          <Stack>
            <TextInput
              label="Name"
              description="Where it runs, e.g. “backup-1 in eu-west”"
              required
              data-autofocus
              {...form.getInputProps('name')}
            />
            {create.error !== null && Object.keys(fieldErrors(create.error)).length === 0 && (
              <ErrorAlert error={create.error} title="Not created" />
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={create.isPending}>
                Create agent
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  )
}

/** The one-time registration token and the two commands that use it, shown once. */
function AgentCommands({
  command,
  token,
  expiresAt,
  onDone,
}: {
  command: string
  token: string
  expiresAt: string
  onDone: () => void
}) {
  const commands = `${command}\ndbsnap-agent run`
  return (
    <Stack>
      <Alert color="yellow" title="Copy the token now">
        It is shown this once and registers one agent, until {formatTime(expiresAt)}. Run these on
        the machine that reaches the databases, with <Code>DBSNAP_AGENT_REPOSITORY</Code> set to
        where its snapshots go:
      </Alert>
      <Code
        block
        data-testid="agent-commands"
        aria-label="The commands to run"
        style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
      >
        {commands}
      </Code>
      <Group justify="space-between">
        <Group gap="xs">
          <CopyButton value={commands}>
            {({ copied, copy }) => (
              <Button color={copied ? 'green' : 'indigo'} onClick={copy}>
                {copied ? 'Copied' : 'Copy commands'}
              </Button>
            )}
          </CopyButton>
          <CopyButton value={token}>
            {({ copied, copy }) => (
              <Button variant="light" color={copied ? 'green' : 'indigo'} onClick={copy}>
                {copied ? 'Copied' : 'Copy token'}
              </Button>
            )}
          </CopyButton>
        </Group>
        <Button variant="default" onClick={onDone}>
          Done
        </Button>
      </Group>
      <Text size="xs" c="dimmed">
        Lost it, or it expired? Revoke this agent and create another.
      </Text>
    </Stack>
  )
}
