// /orgs/:orgId/projects: the organisation's projects.

import { Anchor, Badge, Table } from '@mantine/core'
import { Link, useParams } from 'react-router'
import { Empty, PageHeader, QueryView } from '../components/page.tsx'
import { formatTime } from '../format.ts'
import { useProjects } from '../queries.ts'
import { useCurrent } from '../shell/current.ts'

export function ProjectsPage() {
  const { orgId = '' } = useParams()
  const { org } = useCurrent()
  const projects = useProjects(orgId)
  return (
    <>
      <PageHeader
        title="Projects"
        description={
          org === undefined ? undefined : (
            <>
              {org.name} · your role <Badge variant="light">{org.role}</Badge>
            </>
          )
        }
      />
      <QueryView query={projects}>
        {({ projects: list }) =>
          list.length === 0 ? (
            <Empty>No project yet: create one with the + beside the project picker.</Empty>
          ) : (
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Slug</Table.Th>
                  <Table.Th>Created</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((project) => (
                  <Table.Tr key={project.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/orgs/${orgId}/projects/${project.id}`}>
                        {project.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{project.slug}</Table.Td>
                    <Table.Td>{formatTime(project.createdAt)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryView>
    </>
  )
}
