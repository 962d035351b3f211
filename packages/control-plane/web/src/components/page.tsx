// A page's title row (title, description, actions) and the states of a list: loading, failed,
// empty.

import { Center, Group, Loader, Stack, Text, Title } from '@mantine/core'
import type { UseQueryResult } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { ErrorAlert } from './error-alert.tsx'

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string
  description?: ReactNode
  actions?: ReactNode
}) {
  return (
    <Group justify="space-between" align="flex-start" mb="lg">
      <Stack gap={4}>
        <Title order={1} size="h2">
          {title}
        </Title>
        {description !== undefined && (
          <Text c="dimmed" size="sm">
            {description}
          </Text>
        )}
      </Stack>
      {actions !== undefined && <Group>{actions}</Group>}
    </Group>
  )
}

/** Renders `children(data)` once the query has data; a loader or the error before that. */
export function QueryView<T>({
  query,
  children,
}: {
  query: UseQueryResult<T>
  children: (data: T) => ReactNode
}) {
  if (query.isPending) {
    return (
      <Center p="xl">
        <Loader aria-label="Loading" />
      </Center>
    )
  }
  if (query.isError) return <ErrorAlert error={query.error} />
  return <>{children(query.data)}</>
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Text c="dimmed" ta="center" p="xl">
      {children}
    </Text>
  )
}
