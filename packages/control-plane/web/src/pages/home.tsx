// `/`: the current organisation's projects, or an invitation to create the first organisation.

import { Button, Center, Loader, Stack, Text, Title } from '@mantine/core'
import { useDisclosure } from '@mantine/hooks'
import { useQueryClient } from '@tanstack/react-query'
import { Navigate, useNavigate } from 'react-router'
import { api, ok } from '../api.ts'
import { ErrorAlert } from '../components/error-alert.tsx'
import { keys } from '../queries.ts'
import { rememberOrg, useCurrent } from '../shell/current.ts'
import { NameSlugModal } from '../shell/name-slug-modal.tsx'

export function HomePage() {
  const { orgs, org } = useCurrent()
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const [modal, modalControls] = useDisclosure()
  if (orgs.isPending) {
    return (
      <Center p="xl">
        <Loader aria-label="Loading" />
      </Center>
    )
  }
  if (orgs.isError) return <ErrorAlert error={orgs.error} />
  if (org !== undefined) return <Navigate to={`/orgs/${org.id}/projects`} replace />
  return (
    <Center p="xl">
      <Stack align="center" maw={480}>
        <Title order={1} size="h2">
          Welcome to DBSnap
        </Title>
        <Text c="dimmed" ta="center">
          Organisations hold projects, and projects hold the connections, snapshots and API keys of
          your databases. Create your first organisation to begin.
        </Text>
        <Button onClick={modalControls.open}>Create an organisation</Button>
      </Stack>
      <NameSlugModal
        title="New organisation"
        opened={modal}
        onClose={modalControls.close}
        onCreate={async (values) => {
          const created = await ok(api.orgs.$post({ json: values }))
          await queryClient.invalidateQueries({ queryKey: keys.orgs })
          rememberOrg(created.id)
          await navigate(`/orgs/${created.id}/projects`)
        }}
      />
    </Center>
  )
}
