// The header's organisation and project pickers, each with a "create" action.

import { ActionIcon, Group, Select, Tooltip } from '@mantine/core'
import { useDisclosure } from '@mantine/hooks'
import { notifications } from '@mantine/notifications'
import { useQueryClient } from '@tanstack/react-query'
import { useNavigate } from 'react-router'
import { api, ok } from '../api.ts'
import { keys, useProjects } from '../queries.ts'
import { rememberOrg, useCurrent } from './current.ts'
import { NameSlugModal } from './name-slug-modal.tsx'

export function OrgProjectSwitcher() {
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const { orgs, org, projectId } = useCurrent()
  const projects = useProjects(org?.id)
  const [orgModal, orgModalControls] = useDisclosure()
  const [projectModal, projectModalControls] = useDisclosure()

  const openOrg = (orgId: string) => {
    rememberOrg(orgId)
    void navigate(`/orgs/${orgId}/projects`)
  }
  return (
    <Group gap="xs" wrap="nowrap" visibleFrom="xs">
      <Select
        aria-label="Organisation"
        placeholder={orgs.data?.orgs.length === 0 ? 'No organisation yet' : 'Organisation'}
        data={(orgs.data?.orgs ?? []).map((o) => ({ value: o.id, label: o.name }))}
        value={org?.id ?? null}
        onChange={(value) => value !== null && openOrg(value)}
        allowDeselect={false}
        w={200}
      />
      <Tooltip label="New organisation">
        <ActionIcon
          variant="default"
          size="lg"
          aria-label="New organisation"
          onClick={orgModalControls.open}
        >
          +
        </ActionIcon>
      </Tooltip>
      {org !== undefined && (
        <>
          <Select
            aria-label="Project"
            placeholder={projects.data?.projects.length === 0 ? 'No project yet' : 'Project'}
            data={(projects.data?.projects ?? []).map((p) => ({ value: p.id, label: p.name }))}
            value={projectId ?? null}
            onChange={(value) =>
              value !== null && void navigate(`/orgs/${org.id}/projects/${value}`)
            }
            allowDeselect={false}
            w={200}
          />
          <Tooltip label="New project">
            <ActionIcon
              variant="default"
              size="lg"
              aria-label="New project"
              onClick={projectModalControls.open}
            >
              +
            </ActionIcon>
          </Tooltip>
        </>
      )}
      <NameSlugModal
        title="New organisation"
        opened={orgModal}
        onClose={orgModalControls.close}
        onCreate={async (values) => {
          const created = await ok(api.orgs.$post({ json: values }))
          await queryClient.invalidateQueries({ queryKey: keys.orgs })
          notifications.show({ message: `Organisation “${created.name}” created`, color: 'green' })
          openOrg(created.id)
        }}
      />
      {org !== undefined && (
        <NameSlugModal
          title={`New project in ${org.name}`}
          opened={projectModal}
          onClose={projectModalControls.close}
          onCreate={async (values) => {
            const created = await ok(
              api.orgs[':orgId'].projects.$post({ param: { orgId: org.id }, json: values }),
            )
            await queryClient.invalidateQueries({ queryKey: keys.projects(org.id) })
            notifications.show({ message: `Project “${created.name}” created`, color: 'green' })
            await navigate(`/orgs/${org.id}/projects/${created.id}`)
          }}
        />
      )}
    </Group>
  )
}
