// /orgs/:orgId/projects/:projectId/diffs/:diffId: one diff. The two sides, the job's state while
// it runs (the page follows it), then the summary, the schema changes, and one collapsible
// section per table over its paged row changes. Filters (table, change type) and the search are
// in the URL, so a link shows the same rows; j / k move between changes, Enter opens one.

import {
  Anchor,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Kbd,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core'
import { useDebouncedValue } from '@mantine/hooks'
import { notifications } from '@mantine/notifications'
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react'
import { Link, useParams, useSearchParams } from 'react-router'
import { api, ok } from '../api.ts'
import { ChangeSection } from '../components/diff-changes.tsx'
import { messageOf } from '../components/error-alert.tsx'
import { describeProgress, JobStateBadge } from '../components/job-state.tsx'
import { Empty, PageHeader, QueryView } from '../components/page.tsx'
import { SchemaChanges } from '../components/schema-changes.tsx'
import { CHANGE_STYLE, diffCommand } from '../diff-format.ts'
import {
  CHANGE_TYPES,
  changeFilterOf,
  exportUrl,
  openAtFirst,
  useDiff,
  useDiffCounts,
  type ChangeType,
  type Diff,
} from '../diff-queries.ts'
import { formatCount, formatTime } from '../format.ts'
import { isLive, useConnection, useJob } from '../job-queries.ts'

export function DiffPage() {
  const { orgId = '', projectId = '', diffId = '' } = useParams()
  const diff = useDiff(orgId, projectId, diffId)
  return (
    <>
      <PageHeader
        title="Diff"
        description={
          diff.data?.connectionId == null ? undefined : (
            <Anchor
              component={Link}
              to={`/orgs/${orgId}/projects/${projectId}/connections/${diff.data.connectionId}`}
              size="sm"
              underline="always"
            >
              back to the connection
            </Anchor>
          )
        }
      />
      <QueryView query={diff}>
        {(d) => <DiffView orgId={orgId} projectId={projectId} diff={d} />}
      </QueryView>
    </>
  )
}

function DiffView({ orgId, projectId, diff }: { orgId: string; projectId: string; diff: Diff }) {
  const connection = useConnection(orgId, projectId, diff.connectionId ?? '')
  const connectionName = diff.connectionId === null ? null : (connection.data?.name ?? null)
  return (
    <Stack gap="lg">
      <Sides diff={diff} connectionName={connectionName} />
      {diff.state === 'succeeded' ? (
        <Succeeded
          orgId={orgId}
          projectId={projectId}
          diff={diff}
          liveUrl={connection.data?.url ?? null}
        />
      ) : (
        <JobStatus orgId={orgId} projectId={projectId} diff={diff} />
      )}
    </Stack>
  )
}

/** The two sides: snapshot names, ids and times, or the live database of the connection. */
function Sides({ diff, connectionName }: { diff: Diff; connectionName: string | null }) {
  const side = (label: string, body: ReactNode) => (
    <Paper withBorder p="sm" radius="sm">
      <Text size="xs" c="dimmed" fw={600} tt="uppercase">
        {label}
      </Text>
      {body}
    </Paper>
  )
  return (
    <SimpleGrid cols={{ base: 1, sm: 2 }} data-testid="diff-sides">
      {side(
        'From',
        <SnapshotSide
          name={diff.from.name}
          id={diff.from.snapshotId}
          takenAt={diff.from.takenAt}
        />,
      )}
      {side(
        'To',
        'snapshotId' in diff.to ? (
          <SnapshotSide name={diff.to.name} id={diff.to.snapshotId} takenAt={diff.to.takenAt} />
        ) : (
          <Stack gap={2}>
            <Group gap="xs">
              <Badge color="teal.9" tt="none">
                live
              </Badge>
              <Text fw={600}>{connectionName ?? 'the live database'}</Text>
            </Group>
            <Text size="sm" c="dimmed">
              read {formatTime(diff.to.takenAt, 'when the diff runs')}
            </Text>
          </Stack>
        ),
      )}
    </SimpleGrid>
  )
}

function SnapshotSide({ name, id, takenAt }: { name: string; id: string; takenAt: string }) {
  return (
    <Stack gap={2}>
      <Group gap="xs">
        <Text fw={600}>{name}</Text>
        <Tooltip label={id}>
          <Code>{id.slice(0, 12)}</Code>
        </Tooltip>
      </Group>
      <Text size="sm" c="dimmed">
        taken {formatTime(takenAt)}
      </Text>
    </Stack>
  )
}

/** A diff that has not succeeded: its job's state and progress, or why it failed. */
function JobStatus({ orgId, projectId, diff }: { orgId: string; projectId: string; diff: Diff }) {
  const job = useJob(orgId, projectId, diff.jobId)
  return (
    <Paper withBorder p="md" radius="sm" data-testid="diff-job">
      <Group gap="sm">
        <JobStateBadge state={diff.state} />
        <Text size="sm">
          {isLive(diff)
            ? `An agent computes the diff: ${describeProgress(job.data?.progress ?? null)}. This page follows it.`
            : `The diff job ended ${diff.state}.`}
        </Text>
      </Group>
      {job.data?.error != null && (
        <Text size="sm" c="red" mt="sm" role="alert">
          <Code>{job.data.error.code}</Code> {job.data.error.message}
        </Text>
      )}
      {diff.warnings.length > 0 && <Warnings warnings={diff.warnings} />}
    </Paper>
  )
}

function Warnings({ warnings }: { warnings: readonly string[] }) {
  return (
    <Stack gap={2} mt="sm">
      {warnings.map((warning) => (
        <Text key={warning} size="sm" c="yellow.9">
          ⚠ {warning}
        </Text>
      ))}
    </Stack>
  )
}

interface Summary {
  schemaChanges?: number
  tables?: { changed?: number; added?: number; removed?: number }
  rows?: { added?: number; removed?: number; modified?: number }
}

function Succeeded({
  orgId,
  projectId,
  diff,
  liveUrl,
}: {
  orgId: string
  projectId: string
  diff: Diff
  liveUrl: string | null
}) {
  const [params, setParams] = useSearchParams()
  const { table: tableFilter, type, q } = changeFilterOf(params)
  const [search, setSearch] = useState(q)
  const [debounced] = useDebouncedValue(search, 300)

  const setParam = useCallback(
    (name: string, value: string | undefined) =>
      setParams(
        (current) => {
          const next = new URLSearchParams(current)
          if (value === undefined || value === '') next.delete(name)
          else next.set(name, value)
          return next
        },
        { replace: true },
      ),
    [setParams],
  )
  // Only a new search changes the URL (setting it to what it holds would navigate again).
  useEffect(() => {
    if (debounced.trim() !== q) setParam('q', debounced.trim())
  }, [debounced, q, setParam])

  const tables = diff.tables ?? []
  const matching = useDiffCounts(orgId, projectId, diff.id, { type, q }, q !== '')
  const matchingOf = (table: string) => {
    if (matching.data === undefined) return undefined
    const counts = matching.data.tables.find((t) => t.table === table)
    return counts === undefined ? 0 : counts.added + counts.removed + counts.modified
  }
  const shown = tableFilter === undefined ? tables : tables.filter((t) => t.table === tableFilter)
  const summary = (diff.summary ?? {}) as Summary
  const schema = diff.schema ?? []

  const [closed, setClosed] = useState<ReadonlySet<string>>(() => {
    const open = new Set(openAtFirst(tables).map((t) => t.table))
    return new Set(tables.map((t) => t.table).filter((t) => !open.has(t)))
  })
  const isOpen = (table: string) => tableFilter === table || !closed.has(table)
  const toggle = (table: string) =>
    setClosed((set) => {
      const next = new Set(set)
      if (!next.delete(table)) next.add(table)
      return next
    })

  const navigation = useChangeNavigation(shown.filter((t) => isOpen(t.table)).map((t) => t.table))

  return (
    <Stack gap="lg">
      <SummaryCards summary={summary} tables={tables.length} />
      {diff.warnings.length > 0 && <Warnings warnings={diff.warnings} />}
      <ExportBar
        orgId={orgId}
        projectId={projectId}
        diff={diff}
        liveUrl={liveUrl}
        filter={{ table: tableFilter, type, q }}
      />
      {schema.length > 0 && (
        <section>
          <Title order={2} size="h4" mb="sm">
            Schema changes ({formatCount(schema.length)})
          </Title>
          <SchemaChanges changes={schema} />
        </section>
      )}
      <section>
        <Group justify="space-between" mb="sm" align="flex-end">
          <Title order={2} size="h4">
            Row changes
          </Title>
          <Text size="xs" c="dimmed" data-testid="keyboard-hint">
            <Kbd>j</Kbd> / <Kbd>k</Kbd> next / previous change · <Kbd>Enter</Kbd> opens it
          </Text>
        </Group>
        <Group mb="md" align="flex-end">
          <Select
            label="Table"
            placeholder="All tables"
            data={tables.map((t) => t.table)}
            value={tableFilter ?? null}
            onChange={(value) => setParam('table', value ?? undefined)}
            clearable
            searchable
            w={260}
          />
          <Stack gap={4}>
            <Text size="sm" fw={500} id="change-type-label">
              Change
            </Text>
            <SegmentedControl
              aria-labelledby="change-type-label"
              data={[
                { value: 'all', label: 'All' },
                ...CHANGE_TYPES.map((t) => ({ value: t, label: `${CHANGE_STYLE[t].sign} ${t}` })),
              ]}
              value={type ?? 'all'}
              onChange={(value) => setParam('type', value === 'all' ? undefined : value)}
            />
          </Stack>
          <TextInput
            label="Search"
            description="a key or a value, any case"
            placeholder="e.g. 1200 or an email"
            value={search}
            onChange={(event) => setSearch(event.currentTarget.value)}
            w={280}
          />
        </Group>
        {shown.length === 0 ? (
          <Empty>
            {tables.length === 0
              ? 'No row changed.'
              : `No table ${tableFilter ?? ''} in this diff.`}
          </Empty>
        ) : (
          <Stack gap="sm">
            {shown.map((table) => (
              <ChangeSection
                key={table.table}
                orgId={orgId}
                projectId={projectId}
                diffId={diff.id}
                table={table}
                type={type}
                q={q}
                matching={matchingOf(table.table)}
                opened={isOpen(table.table)}
                onToggle={() => toggle(table.table)}
                activeIndex={
                  navigation.active?.table === table.table ? navigation.active.index : undefined
                }
                reveal={navigation.active?.reveal === true}
                onActivate={(index) => navigation.activate(table.table, index)}
                onCount={navigation.counter(table.table)}
              />
            ))}
          </Stack>
        )}
      </section>
    </Stack>
  )
}

function SummaryCards({ summary, tables }: { summary: Summary; tables: number }) {
  const rows = summary.rows ?? {}
  const card = (label: string, value: ReactNode, testId: string) => (
    <Paper withBorder p="sm" radius="sm" data-testid={testId}>
      <Text size="xs" c="dimmed" fw={600} tt="uppercase">
        {label}
      </Text>
      <Text size="xl" fw={700}>
        {value}
      </Text>
    </Paper>
  )
  return (
    <SimpleGrid cols={{ base: 2, md: 5 }} data-testid="diff-summary">
      {card('Schema changes', formatCount(summary.schemaChanges ?? 0), 'summary-schema')}
      {card('Tables changed', formatCount(summary.tables?.changed ?? tables), 'summary-tables')}
      {CHANGE_TYPES.map((t) =>
        card(
          `Rows ${t}`,
          <Text span inherit c={`${CHANGE_STYLE[t].color}.8`}>
            {CHANGE_STYLE[t].sign} {formatCount(rows[t] ?? 0)}
          </Text>,
          `summary-${t}`,
        ),
      )}
    </SimpleGrid>
  )
}

/** Exports (Markdown summary, NDJSON of the changes shown) and the CLI command of the diff. */
function ExportBar({
  orgId,
  projectId,
  diff,
  liveUrl,
  filter,
}: {
  orgId: string
  projectId: string
  diff: Diff
  liveUrl: string | null
  filter: { table?: string | undefined; type?: ChangeType | undefined; q: string }
}) {
  const command = diffCommand(diff, liveUrl)
  const download = async (format: 'markdown' | 'ndjson') => {
    try {
      // A call through the session's fetch first: it renews an expired access cookie, so the
      // download (a plain navigation the browser streams to disk) is signed in.
      await ok(
        api.orgs[':orgId'].projects[':projectId'].diffs[':diffId'].$get({
          param: { orgId, projectId, diffId: diff.id },
        }),
      )
      window.location.assign(exportUrl(orgId, projectId, diff.id, format, filter))
    } catch (error) {
      notifications.show({ color: 'red', title: 'Export failed', message: messageOf(error) })
    }
  }
  return (
    <Paper withBorder p="sm" radius="sm">
      <Group justify="space-between" gap="sm">
        <Group gap="xs">
          <Button variant="default" size="xs" onClick={() => void download('markdown')}>
            Export Markdown summary
          </Button>
          <Button variant="default" size="xs" onClick={() => void download('ndjson')}>
            Export changes (NDJSON)
          </Button>
        </Group>
        <Group gap="xs" wrap="nowrap" miw={0}>
          <Code data-testid="diff-command" style={{ whiteSpace: 'nowrap', overflow: 'auto' }}>
            {command}
          </Code>
          <CopyButton value={command}>
            {({ copied, copy }) => (
              <Button size="xs" variant="light" color={copied ? 'teal' : 'indigo'} onClick={copy}>
                {copied ? 'Copied' : 'Copy as dbsnap diff command'}
              </Button>
            )}
          </CopyButton>
        </Group>
      </Group>
    </Paper>
  )
}

/**
 * j / k move the focus to the next / previous change across the open tables, in their order;
 * typing in a field or an editor is left alone.
 */
function useChangeNavigation(openTables: readonly string[]) {
  const [active, setActive] = useState<{ table: string; index: number; reveal: boolean }>()
  const counts = useRef(new Map<string, number>())
  const counters = useRef(new Map<string, (count: number) => void>())
  const order = openTables.join('\n')

  const counter = (table: string) => {
    let set = counters.current.get(table)
    if (set === undefined) {
      set = (count: number) => counts.current.set(table, count)
      counters.current.set(table, set)
    }
    return set
  }

  useEffect(() => {
    const tables = order === '' ? [] : order.split('\n')
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || tables.length === 0) return
      const target = event.target as HTMLElement | null
      if (target?.closest('input, textarea, select, [contenteditable], .monaco-editor') != null) {
        return
      }
      const step = event.key === 'j' ? 1 : event.key === 'k' ? -1 : 0
      if (step === 0) return
      event.preventDefault()
      setActive((current) => {
        const count = (table: string) => counts.current.get(table) ?? 0
        // The next table that has rows, from `at` in the direction of the step.
        const nextTable = (at: number) => {
          for (; at >= 0 && at < tables.length; at += step) {
            if (count(tables[at]!) > 0) return tables[at]
          }
          return undefined
        }
        if (current === undefined || !tables.includes(current.table)) {
          const first = nextTable(step > 0 ? 0 : tables.length - 1)
          return first === undefined ? current : { table: first, index: 0, reveal: true }
        }
        const index = current.index + step
        if (index >= 0 && index < count(current.table)) return { ...current, index, reveal: true }
        const table = nextTable(tables.indexOf(current.table) + step)
        if (table === undefined) return current
        return { table, index: step > 0 ? 0 : count(table) - 1, reveal: true }
      })
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [order])

  return {
    active,
    counter,
    activate: (table: string, index: number) =>
      setActive((current) =>
        current?.table === table && current.index === index
          ? current
          : { table, index, reveal: false },
      ),
  }
}
