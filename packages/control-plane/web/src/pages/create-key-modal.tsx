// The modal that creates an API key: name, scopes, an optional project and expiry; then the
// secret, once.

import {
  Button,
  Checkbox,
  Group,
  Modal,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  TextInput,
} from '@mantine/core'
import { useForm } from '@mantine/form'
import { SCOPES, type Scope } from '@dbsnap/control-plane/client'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { api, ok } from '../api.ts'
import { ErrorAlert, fieldErrors } from '../components/error-alert.tsx'
import { SecretOnce } from '../components/secret-once.tsx'
import { keys, useProjects } from '../queries.ts'

interface KeyForm {
  name: string
  scopes: Scope[]
  projectId: string | null
  expiresInDays: number | string
}

export function CreateKeyModal({
  orgId,
  opened,
  onClose,
}: {
  orgId: string
  opened: boolean
  onClose: () => void
}) {
  const queryClient = useQueryClient()
  const projects = useProjects(orgId)
  const [secret, setSecret] = useState<string>()
  const form = useForm<KeyForm>({
    initialValues: {
      name: '',
      scopes: ['org:read', 'projects:read'],
      projectId: null,
      expiresInDays: 90,
    },
    validate: {
      name: (value) => (value.trim() === '' ? 'Enter a name' : null),
      scopes: (value) => (value.length === 0 ? 'Choose at least one scope' : null),
    },
  })
  const create = useMutation({
    mutationFn: (values: KeyForm) =>
      ok(
        api.orgs[':orgId'].keys.$post({
          param: { orgId },
          json: {
            name: values.name,
            scopes: values.scopes,
            ...(values.projectId === null ? {} : { projectId: values.projectId }),
            ...(values.expiresInDays === '' ? {} : { expiresInDays: Number(values.expiresInDays) }),
          },
        }),
      ),
    onSuccess: async (created) => {
      setSecret(created.secret)
      await queryClient.invalidateQueries({ queryKey: keys.apiKeys(orgId) })
    },
    onError: (error) => form.setErrors(fieldErrors(error)),
  })
  const close = () => {
    setSecret(undefined)
    form.reset()
    create.reset()
    onClose()
  }
  return (
    <Modal
      opened={opened}
      onClose={close}
      title={secret === undefined ? 'New API key' : 'Your new API key'}
      size="lg"
    >
      {secret !== undefined ? (
        <SecretOnce secret={secret} onDone={close} />
      ) : (
        <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
          <Stack>
            <TextInput
              label="Name"
              description="What uses it, e.g. “nightly CI”"
              required
              data-autofocus
              {...form.getInputProps('name')}
            />
            <Checkbox.Group
              label="Scopes"
              description="What the key may do; never more than your role"
              required
              {...form.getInputProps('scopes')}
            >
              <SimpleGrid cols={2} mt="xs">
                {SCOPES.map((scope) => (
                  <Checkbox key={scope} value={scope} label={scope} />
                ))}
              </SimpleGrid>
            </Checkbox.Group>
            <Select
              label="Project"
              description="Limit the key to one project; empty for the whole organisation"
              placeholder="Whole organisation"
              clearable
              data={(projects.data?.projects ?? []).map((p) => ({ value: p.id, label: p.name }))}
              {...form.getInputProps('projectId')}
            />
            <NumberInput
              label="Expires in (days)"
              description="Empty: never expires"
              min={1}
              max={3650}
              allowDecimal={false}
              {...form.getInputProps('expiresInDays')}
            />
            {create.error !== null && Object.keys(fieldErrors(create.error)).length === 0 && (
              <ErrorAlert error={create.error} title="Not created" />
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={create.isPending}>
                Create key
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  )
}
