// A diff's schema changes: added, removed, changed and renamed objects, each signed and
// coloured, opening to the old and new definitions side by side.

import { Accordion, Badge, Code, Group, SimpleGrid, Stack, Text } from '@mantine/core'
import { SCHEMA_STYLE } from '../diff-format.ts'

/** The engine's SchemaChange (docs/diff-format.md): what the viewer reads of it. */
interface SchemaChange {
  kind?: unknown
  change?: unknown
  object?: unknown
  from?: unknown
  old?: unknown
  new?: unknown
}

const text = (value: unknown) => (typeof value === 'string' ? value : '')

export function SchemaChanges({ changes }: { changes: readonly SchemaChange[] }) {
  return (
    <Accordion multiple variant="contained" chevronPosition="left" data-testid="schema-changes">
      {changes.map((change, index) => {
        const kind = text(change.change)
        const style = SCHEMA_STYLE[kind] ?? { sign: '·', color: 'gray' }
        return (
          <Accordion.Item key={index} value={String(index)} data-testid="schema-change">
            <Accordion.Control>
              <Group gap="xs" wrap="nowrap">
                <Badge color={style.color} w={104} tt="none" leftSection={style.sign}>
                  {kind}
                </Badge>
                <Text size="sm" c="dimmed">
                  {text(change.kind)}
                </Text>
                <Code>{text(change.object)}</Code>
                {kind === 'renamed' && (
                  <Text size="sm" c="dimmed">
                    renamed from <Code>{text(change.from)}</Code>
                  </Text>
                )}
              </Group>
            </Accordion.Control>
            <Accordion.Panel>
              <SimpleGrid cols={2}>
                <Definition label="Old definition" value={change.old} />
                <Definition label="New definition" value={change.new} />
              </SimpleGrid>
            </Accordion.Panel>
          </Accordion.Item>
        )
      })}
    </Accordion>
  )
}

function Definition({ label, value }: { label: string; value: unknown }) {
  return (
    <Stack gap={4}>
      <Text size="xs" fw={600} c="dimmed">
        {label}
      </Text>
      {value === undefined ? (
        <Text size="sm" c="dimmed">
          —
        </Text>
      ) : (
        <Code block>{JSON.stringify(value, null, 2)}</Code>
      )}
    </Stack>
  )
}
