// A new API key's secret, shown the one time the API returns it, with a copy button.

import { Alert, Button, Code, CopyButton, Group, Stack, Text } from '@mantine/core'

export function SecretOnce({ secret, onDone }: { secret: string; onDone: () => void }) {
  return (
    <Stack>
      <Alert color="yellow" title="Copy the key now">
        It is shown this once: DBSnap keeps only its hash. Scripts send it as{' '}
        <Code>Authorization: Bearer …</Code>.
      </Alert>
      <Code block data-testid="api-key-secret" aria-label="The new API key">
        {secret}
      </Code>
      <Group justify="space-between">
        <CopyButton value={secret}>
          {({ copied, copy }) => (
            <Button color={copied ? 'green' : 'indigo'} onClick={copy}>
              {copied ? 'Copied' : 'Copy key'}
            </Button>
          )}
        </CopyButton>
        <Button variant="default" onClick={onDone}>
          Done
        </Button>
      </Group>
      <Text size="xs" c="dimmed">
        Lost it? Rotate the key to get a new one.
      </Text>
    </Stack>
  )
}
