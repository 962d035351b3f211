// The modal that adds or changes a connection: a name, the credential as the API takes it (a
// URL, or an engine with an `env:`/`file:` reference the agent resolves), optional TLS material;
// then it asks an agent to test the connection and shows the outcome.

import {
  Button,
  Group,
  Modal,
  PasswordInput,
  SegmentedControl,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core'
import { useForm } from '@mantine/form'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { api, ok } from '../api.ts'
import { ConnectionTestResult } from '../components/connection-test-result.tsx'
import { ErrorAlert, fieldErrors } from '../components/error-alert.tsx'
import { jobKeys } from '../job-queries.ts'
import { keys } from '../queries.ts'

export interface ConnectionRow {
  id: string
  name: string
  engine: 'postgres' | 'mysql' | 'mongodb'
  url: string | null
  ref: string | null
  tls: boolean
}

type CredentialMode = 'keep' | 'url' | 'ref'
type TlsMode = 'keep' | 'none' | 'set' | 'remove'

interface ConnectionForm {
  name: string
  credential: CredentialMode
  url: string
  engine: ConnectionRow['engine']
  ref: string
  tls: TlsMode
  ca: string
  cert: string
  key: string
}

const ENGINES = [
  { value: 'postgres', label: 'PostgreSQL' },
  { value: 'mysql', label: 'MySQL / MariaDB' },
  { value: 'mongodb', label: 'MongoDB' },
]

interface Pems {
  ca?: string
  cert?: string
  key?: string
}

/** The API body of the form; `tls: null` removes the connection's TLS material (changes only). */
function bodyOf(values: ConnectionForm): {
  name: string
  url?: string
  engine?: ConnectionRow['engine']
  ref?: string
  tls?: Pems | null
} {
  const credential =
    values.credential === 'url'
      ? { url: values.url.trim() }
      : values.credential === 'ref'
        ? { engine: values.engine, ref: values.ref.trim() }
        : {}
  const pems: Pems = {}
  for (const name of ['ca', 'cert', 'key'] as const) {
    if (values[name].trim() !== '') pems[name] = values[name].trim()
  }
  const tls = values.tls === 'set' ? { tls: pems } : values.tls === 'remove' ? { tls: null } : {}
  return { name: values.name.trim(), ...credential, ...tls }
}

export function ConnectionModal({
  orgId,
  projectId,
  connection,
  opened,
  onClose,
}: {
  orgId: string
  projectId: string
  /** The connection to change; undefined to add one. */
  connection?: ConnectionRow | undefined
  opened: boolean
  onClose: () => void
}) {
  const editing = connection !== undefined
  const queryClient = useQueryClient()
  const [testJobId, setTestJobId] = useState<string>()
  const [testError, setTestError] = useState<unknown>()
  const form = useForm<ConnectionForm>({
    initialValues: {
      name: connection?.name ?? '',
      credential: editing ? 'keep' : 'url',
      url: '',
      engine: connection?.engine ?? 'postgres',
      ref: '',
      tls: editing && connection.tls ? 'keep' : 'none',
      ca: '',
      cert: '',
      key: '',
    },
    validate: {
      name: (value) => (value.trim() === '' ? 'Enter a name' : null),
      url: (value, values) =>
        values.credential === 'url' && !/^[a-z+]+:\/\/\S+$/.test(value.trim())
          ? 'Enter a URL such as postgres://user:password@host:5432/database'
          : null,
      ref: (value, values) =>
        values.credential === 'ref' && !/^(env:[A-Za-z_]\w*|file:\/\S*)$/.test(value.trim())
          ? 'env:NAME or file:/absolute/path'
          : null,
      ca: (value, values) =>
        values.tls === 'set' && value.trim() === '' && values.cert.trim() === ''
          ? 'Give a CA certificate, or a client certificate and key'
          : null,
      key: (value, values) =>
        values.tls === 'set' && (value.trim() === '') !== (values.cert.trim() === '')
          ? 'A client certificate and its key go together'
          : null,
    },
  })

  /** Saved is saved: a test that cannot be queued is shown as such, not as a failed save. */
  const runTest = async (connectionId: string) => {
    try {
      const { job } = await ok(
        api.orgs[':orgId'].projects[':projectId'].connections[':connectionId'].tests.$post({
          param: { orgId, projectId, connectionId },
        }),
      )
      setTestJobId(job.id)
      await queryClient.invalidateQueries({ queryKey: jobKeys.jobs(orgId, projectId) })
    } catch (error) {
      setTestError(error)
    }
  }
  const save = useMutation({
    mutationFn: async (values: ConnectionForm) => {
      const body = bodyOf(values)
      const saved = editing
        ? await ok(
            api.orgs[':orgId'].projects[':projectId'].connections[':connectionId'].$patch({
              param: { orgId, projectId, connectionId: connection.id },
              json: body,
            }),
          )
        : await ok(
            api.orgs[':orgId'].projects[':projectId'].connections.$post({
              param: { orgId, projectId },
              json: { ...body, tls: body.tls ?? undefined },
            }),
          )
      await queryClient.invalidateQueries({ queryKey: keys.connections(orgId, projectId) })
      await runTest(saved.id)
      return saved
    },
    onError: (error) => form.setErrors(fieldErrors(error)),
  })
  const close = () => {
    setTestJobId(undefined)
    setTestError(undefined)
    form.reset()
    save.reset()
    onClose()
  }
  const tlsModes = [
    ...(editing && connection.tls
      ? [
          { value: 'keep', label: 'Keep' },
          { value: 'set', label: 'Replace' },
          { value: 'remove', label: 'Remove' },
        ]
      : [
          { value: 'none', label: 'None' },
          { value: 'set', label: 'Add' },
        ]),
  ]

  return (
    <Modal
      opened={opened}
      onClose={close}
      title={editing ? `Change “${connection.name}”` : 'New connection'}
      size="lg"
    >
      {save.data !== undefined ? (
        <Stack>
          <Text size="sm">
            “{save.data.name}” is saved. An agent of the project tests it from its network:
          </Text>
          {testJobId !== undefined && (
            <ConnectionTestResult orgId={orgId} projectId={projectId} jobId={testJobId} />
          )}
          <ErrorAlert error={testError} title="The test could not be asked for" />
          <Group justify="flex-end">
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={form.onSubmit((values) => save.mutate(values))} noValidate>
          <Stack>
            <TextInput
              label="Name"
              description="Also the catalogue name of its snapshots"
              required
              data-autofocus
              {...form.getInputProps('name')}
            />
            <Stack gap={4}>
              <Text size="sm" fw={500}>
                Credential
              </Text>
              <SegmentedControl
                aria-label="Credential"
                data={[
                  ...(editing ? [{ value: 'keep', label: 'Keep' }] : []),
                  { value: 'url', label: 'URL' },
                  { value: 'ref', label: 'Reference on the agent' },
                ]}
                {...form.getInputProps('credential')}
              />
            </Stack>
            {form.values.credential === 'url' && (
              <PasswordInput
                label="Connection URL"
                description="Encrypted at rest; shown afterwards with its password hidden"
                placeholder="postgres://backup:password@db.internal:5432/shop"
                required
                autoComplete="off"
                {...form.getInputProps('url')}
              />
            )}
            {form.values.credential === 'ref' && (
              <Group grow align="flex-start">
                <Select
                  label="Engine"
                  data={ENGINES}
                  allowDeselect={false}
                  {...form.getInputProps('engine')}
                />
                <TextInput
                  label="Reference"
                  description="The agent reads the URL there; it never leaves its network"
                  placeholder="env:SHOP_DATABASE_URL"
                  required
                  {...form.getInputProps('ref')}
                />
              </Group>
            )}
            <Stack gap={4}>
              <Text size="sm" fw={500}>
                TLS material
              </Text>
              <SegmentedControl
                aria-label="TLS material"
                data={tlsModes}
                {...form.getInputProps('tls')}
              />
            </Stack>
            {form.values.tls === 'set' && (
              <>
                <Textarea
                  label="CA certificate (PEM)"
                  autosize
                  minRows={2}
                  maxRows={6}
                  {...form.getInputProps('ca')}
                />
                <Group grow align="flex-start">
                  <Textarea
                    label="Client certificate (PEM)"
                    autosize
                    minRows={2}
                    maxRows={6}
                    {...form.getInputProps('cert')}
                  />
                  <Textarea
                    label="Client key (PEM)"
                    autosize
                    minRows={2}
                    maxRows={6}
                    {...form.getInputProps('key')}
                  />
                </Group>
              </>
            )}
            {save.error !== null && Object.keys(fieldErrors(save.error)).length === 0 && (
              <ErrorAlert error={save.error} title="Not saved" />
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={save.isPending}>
                {editing ? 'Save and test' : 'Add and test'}
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  )
}
