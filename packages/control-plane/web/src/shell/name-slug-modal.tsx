// The modal that creates an organisation or a project: a name, and a slug proposed from it.

import { Button, Group, Modal, Stack, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useMutation } from '@tanstack/react-query'
import { ErrorAlert, fieldErrors } from '../components/error-alert.tsx'
import { slugify } from '../format.ts'

export interface NameAndSlug {
  name: string
  slug: string
}

export function NameSlugModal({
  title,
  opened,
  onClose,
  onCreate,
}: {
  title: string
  opened: boolean
  onClose: () => void
  onCreate: (values: NameAndSlug) => Promise<unknown>
}) {
  const form = useForm<NameAndSlug>({
    initialValues: { name: '', slug: '' },
    validate: {
      name: (value) => (value.trim() === '' ? 'Enter a name' : null),
      slug: (value) =>
        /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(value)
          ? null
          : 'Lower-case letters, digits and dashes',
    },
    onValuesChange: (values, previous) => {
      // Propose a slug while the user has not written one of their own.
      if (values.name !== previous.name && previous.slug === slugify(previous.name)) {
        form.setFieldValue('slug', slugify(values.name))
      }
    },
  })
  const create = useMutation({
    mutationFn: onCreate,
    onSuccess: () => {
      form.reset()
      onClose()
    },
    onError: (error) => form.setErrors(fieldErrors(error)),
  })
  return (
    <Modal opened={opened} onClose={onClose} title={title}>
      <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
        <Stack>
          <TextInput label="Name" required data-autofocus {...form.getInputProps('name')} />
          <TextInput
            label="Slug"
            description="Used in URLs and scripts: lower-case letters, digits and dashes"
            required
            {...form.getInputProps('slug')}
          />
          {create.error !== null && Object.keys(fieldErrors(create.error)).length === 0 && (
            <ErrorAlert error={create.error} title="Not created" />
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}
