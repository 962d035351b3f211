// The frame of the pages one sees signed out (login, register, setup): a centred card.

import { Center, Paper, Stack, Text, Title } from '@mantine/core'
import type { ReactNode } from 'react'

export function AuthLayout({
  title,
  subtitle,
  children,
}: {
  title: string
  subtitle?: ReactNode
  children: ReactNode
}) {
  return (
    <Center mih="100vh" p="md" bg="gray.0">
      <Stack w="100%" maw={420} gap="lg">
        <Stack gap={4} align="center">
          <Text fw={700} size="xl" c="indigo">
            DBSnap
          </Text>
          <Title order={1} size="h2">
            {title}
          </Title>
          {subtitle !== undefined && (
            <Text c="dimmed" size="sm" ta="center">
              {subtitle}
            </Text>
          )}
        </Stack>
        <Paper withBorder shadow="sm" p="xl">
          {children}
        </Paper>
      </Stack>
    </Center>
  )
}
