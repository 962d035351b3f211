// /orgs/:orgId/projects/:projectId: a project and its connections (read-only here; the API
// and the CLI change them).

import { Badge, Code, Table, Title } from '@mantine/core'
import { useParams } from 'react-router'
import { Empty, PageHeader, QueryView } from '../components/page.tsx'
import { formatTime } from '../format.ts'
import { useConnections, useProjects } from '../queries.ts'

export function ProjectPage() {
  const { orgId = '', projectId = '' } = useParams()
  const project = useProjects(orgId).data?.projects.find((p) => p.id === projectId)
  const connections = useConnections(orgId, projectId)
  return (
    <>
      <PageHeader
        title={project?.name ?? 'Project'}
        description={project === undefined ? undefined : `Slug ${project.slug}`}
      />
      <Title order={2} size="h4" mb="sm">
        Connections
      </Title>
      <QueryView query={connections}>
        {({ connections: list }) =>
          list.length === 0 ? (
            <Empty>
              No connection yet. Add one with <Code>POST …/connections</Code> or the CLI.
            </Empty>
          ) : (
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Engine</Table.Th>
                  <Table.Th>Target</Table.Th>
                  <Table.Th>TLS</Table.Th>
                  <Table.Th>Updated</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((connection) => (
                  <Table.Tr key={connection.id}>
                    <Table.Td>{connection.name}</Table.Td>
                    <Table.Td>
                      <Badge variant="light">{connection.engine}</Badge>
                    </Table.Td>
                    <Table.Td>
                      <Code>{connection.url ?? connection.ref}</Code>
                    </Table.Td>
                    <Table.Td>{connection.tls ? 'yes' : 'no'}</Table.Td>
                    <Table.Td>{formatTime(connection.updatedAt)}</Table.Td>
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
