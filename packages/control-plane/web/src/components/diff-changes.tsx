// One table's row changes in a diff: a collapsible section with its counts over a virtualised
// list (TanStack Virtual) that reads the keyset pages as it scrolls. A row is signed and coloured
// by its change; a modified row shows its key and the changed fields old → new, and opens to the
// whole row with column names, documents and JSON values in Monaco's diff editor.

import { Badge, Box, Group, Loader, Paper, Table, Text, UnstyledButton } from '@mantine/core'
import { useVirtualizer } from '@tanstack/react-virtual'
import { useCallback, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react'
import {
  useDiffChanges,
  type ChangeType,
  type DiffChange,
  type DiffTable,
  type TableColumns,
} from '../diff-queries.ts'
import { CHANGE_STYLE, columnName, formatKey, formatValue } from '../diff-format.ts'
import { formatCount } from '../format.ts'
import { isJsonDocument } from '../json-lines.ts'
import { DocumentDiff, type PatchOp } from './document-diff.tsx'
import { ErrorAlert } from './error-alert.tsx'
import classes from './diff-changes.module.css'

/** A closed change's height in pixels (its line and border, diff-changes.module.css). */
const ROW_HEIGHT = 37
/** Rows kept rendered above and below the visible ones. */
const OVERSCAN = 12
const rowHeight = () => ROW_HEIGHT
/** The list scrolls inside its section past this height. */
const MAX_LIST_HEIGHT = 600

export interface ChangeSectionProps {
  orgId: string
  projectId: string
  diffId: string
  table: DiffTable
  type: ChangeType | undefined
  q: string
  /** How many changes pass the search, once counted (the search's own per-table counts). */
  matching: number | undefined
  opened: boolean
  onToggle: () => void
  /** The row keyboard navigation is on, if it is in this table. */
  activeIndex: number | undefined
  /** Whether the active row was reached by the keyboard: then it is scrolled to and focused. */
  reveal: boolean
  onActivate: (index: number) => void
  /** Tells the page how many rows the list has, for keyboard navigation across tables. */
  onCount: (count: number) => void
}

/** How many changes the counts promise for the filter (unknown while a search is counted). */
function expectedCount(
  table: DiffTable,
  type: ChangeType | undefined,
  q: string,
  matching: number | undefined,
): number | null {
  if (q !== '') return matching ?? null
  return type === undefined ? table.added + table.removed + table.modified : table[type]
}

export function ChangeSection(props: ChangeSectionProps) {
  const { table, type, q, matching, opened, onToggle } = props
  const expected = expectedCount(table, type, q, matching)
  const panelId = useId()
  return (
    <Paper withBorder radius="sm" data-testid="table-section" data-table={table.table}>
      <UnstyledButton
        className={classes.sectionHeader}
        onClick={onToggle}
        aria-expanded={opened}
        aria-controls={opened ? panelId : undefined}
      >
        <Group justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <Text span aria-hidden className={classes.chevron} data-opened={opened}>
              ›
            </Text>
            <Text fw={600} ff="monospace">
              {table.table}
            </Text>
          </Group>
          <Group gap={6} wrap="nowrap">
            {q !== '' && matching !== undefined && (
              <Badge color="indigo" variant="outline" tt="none" data-testid="count-matching">
                {formatCount(matching)} matching
              </Badge>
            )}
            {(['added', 'removed', 'modified'] as const).map((change) => (
              <span
                key={change}
                className={classes.count}
                data-change={change}
                data-dimmed={type !== undefined && type !== change}
                data-testid={`count-${change}`}
              >
                <span aria-hidden>{CHANGE_STYLE[change].sign}</span> {formatCount(table[change])}{' '}
                {change}
              </span>
            ))}
          </Group>
        </Group>
      </UnstyledButton>
      {opened && (
        <div id={panelId}>
          <ChangeList {...props} expected={expected} />
        </div>
      )}
    </Paper>
  )
}

function ChangeList({
  orgId,
  projectId,
  diffId,
  table,
  type,
  q,
  expected,
  activeIndex,
  reveal,
  onActivate,
  onCount,
}: ChangeSectionProps & { expected: number | null }) {
  const changes = useDiffChanges(orgId, projectId, diffId, { table: table.table, type, q })
  const pages = changes.data?.pages
  const items = useMemo(() => pages?.flatMap((page) => page.items) ?? [], [pages])
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = changes
  // The counts say how long the list is before its pages arrive, so the scroll bar is right
  // from the start; while searching, a row more than loaded stands for the pages to come.
  const count = hasNextPage
    ? Math.max(expected ?? 0, items.length + 1)
    : changes.isPending
      ? (expected ?? 1)
      : items.length
  const scroller = useRef<HTMLDivElement>(null)
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set())
  const columns = table.columns

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: rowHeight,
    overscan: OVERSCAN,
    // Stable between renders: a new function makes the virtualizer recompute every row's offset.
    getItemKey: useCallback((index: number) => items[index]?.seq ?? `pending-${index}`, [items]),
  })
  const visible = virtualizer.getVirtualItems()
  const last = visible.at(-1)?.index ?? 0

  useEffect(() => {
    onCount(count)
  }, [count, onCount])

  // Read the next page once the rows shown reach the end of what is loaded.
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && last >= items.length - OVERSCAN) {
      void fetchNextPage()
    }
  }, [last, items.length, hasNextPage, isFetchingNextPage, fetchNextPage])

  // Keyboard navigation: bring the active row into view and focus it (a row focused by a click
  // stays where it is: scrolling it would move what is under the pointer).
  useEffect(() => {
    if (activeIndex === undefined || !reveal) return
    virtualizer.scrollToIndex(activeIndex, { align: 'auto' })
    let frames = 0
    const focus = () => {
      const row = scroller.current?.querySelector<HTMLElement>(`[data-index="${activeIndex}"]`)
      if (row !== null && row !== undefined) row.focus({ preventScroll: true })
      else if (frames++ < 10) requestAnimationFrame(focus)
    }
    requestAnimationFrame(focus)
  }, [activeIndex, reveal, virtualizer])

  // Closed rows have one height and are never measured (measuring each row as it scrolls in
  // forces a layout and recomputes every row's offset); an open row is measured while open.
  const toggle = (seq: number, index: number) =>
    setExpanded((open) => {
      const next = new Set(open)
      if (next.delete(seq)) virtualizer.resizeItem(index, ROW_HEIGHT)
      else next.add(seq)
      return next
    })

  if (changes.isError) return <ErrorAlert error={changes.error} />
  if (!changes.isPending && items.length === 0) {
    return (
      <Text c="dimmed" ta="center" p="md">
        {q === '' ? 'No change of this type.' : `No change matches “${q}”.`}
      </Text>
    )
  }
  return (
    <div
      ref={scroller}
      className={classes.scroller}
      // As tall as its rows (an open one included), up to most of the window.
      style={{ height: Math.min(virtualizer.getTotalSize() + 2, MAX_LIST_HEIGHT) }}
      data-testid="change-list"
      role="list"
      aria-label={`Changes of ${table.table}`}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {visible.map((row) => {
          const change = items[row.index]
          const open = change !== undefined && expanded.has(change.seq)
          return (
            <div
              key={row.key}
              ref={open ? virtualizer.measureElement : undefined}
              data-index={row.index}
              className={classes.row}
              style={{ transform: `translateY(${row.start}px)` }}
              role="listitem"
              aria-setsize={expected ?? -1}
              aria-posinset={row.index + 1}
              tabIndex={row.index === (activeIndex ?? 0) ? 0 : -1}
              onFocus={(event) => {
                if (event.target === event.currentTarget) onActivate(row.index)
              }}
              onKeyDown={(event: KeyboardEvent) => {
                if (event.key === 'Enter' && event.target === event.currentTarget && change) {
                  toggle(change.seq, row.index)
                }
              }}
            >
              {change === undefined ? (
                <div className={classes.change}>
                  <div className={classes.line}>
                    <Loader size="xs" aria-hidden />
                    <span className={classes.summary}>Loading…</span>
                  </div>
                </div>
              ) : (
                <ChangeRow
                  change={change}
                  columns={columns}
                  expanded={open}
                  onToggle={() => toggle(change.seq, row.index)}
                />
              )}
            </div>
          )
        })}
      </div>
    </div>
  )
}

/** A change: one line (fixed height, so scrolling measures nothing new), the whole row below when open. */
function ChangeRow({
  change,
  columns,
  expanded,
  onToggle,
}: {
  change: DiffChange
  columns: TableColumns | null
  expanded: boolean
  onToggle: () => void
}) {
  const style = CHANGE_STYLE[change.change]
  const key = formatKey(change.key, columns?.key)
  return (
    <div className={classes.change} data-change={change.change} data-testid="change-row">
      <div className={classes.line}>
        <button
          type="button"
          className={classes.toggle}
          onClick={onToggle}
          aria-expanded={expanded}
          aria-label={`${expanded ? 'Hide' : 'Show'} the whole row ${key}`}
          tabIndex={-1}
        >
          <span aria-hidden className={classes.chevron} data-opened={expanded}>
            ›
          </span>
        </button>
        <span className={classes.sign} data-change={change.change}>
          <span aria-hidden>{style.sign}</span> {style.label}
        </span>
        <code className={classes.key}>{key}</code>
        <span className={classes.summary}>
          <ChangeSummary change={change} columns={columns} />
        </span>
      </div>
      {expanded && <ChangeDetails change={change} columns={columns} />}
    </div>
  )
}

/** The changed fields old → new (a patch's paths for documents), or the row's values. */
function ChangeSummary({ change, columns }: { change: DiffChange; columns: TableColumns | null }) {
  if (change.change === 'modified') {
    return (change.fields ?? []).map((field, i) => (
      <span key={field.column}>
        {i > 0 && '; '}
        <b>{field.column}</b>
        {': '}
        {field.patch === undefined ? (
          <>
            <span className={classes.old}>{formatValue(field.old, 60)}</span>
            {' → '}
            <span className={classes.new}>{formatValue(field.new, 60)}</span>
          </>
        ) : (
          field.patch.map((op) => `${op.op} ${op.path === '' ? '/' : op.path}`).join(', ')
        )}
      </span>
    ))
  }
  if (change.truncated === true) return 'Too large to show: only its key was kept.'
  const row = (change.change === 'added' ? change.new : change.old) ?? []
  const names = change.change === 'added' ? columns?.new : columns?.old
  return row.map((value, i) => `${columnName(names, i)}=${formatValue(value, 40)}`).join('  ')
}

/** The whole row: every column's value (old and new for a modified row), documents in Monaco. */
function ChangeDetails({ change, columns }: { change: DiffChange; columns: TableColumns | null }) {
  const fields = new Map((change.fields ?? []).map((field) => [field.column, field]))
  const width = Math.max(change.old?.length ?? 0, change.new?.length ?? 0)
  const names = columns?.new ?? columns?.old
  const documents = (change.fields ?? []).filter(
    (field) => field.patch !== undefined || isJsonDocument(field.old) || isJsonDocument(field.new),
  )
  return (
    <Box className={classes.details} data-testid="change-details">
      {change.truncated === true && (
        <Text size="sm" c="dimmed" mb="xs">
          This change was too large to upload whole: its rows were left out, its changed fields
          kept.
        </Text>
      )}
      {width > 0 && (
        <Table withTableBorder withColumnBorders verticalSpacing={4} fz="sm" mb="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={200}>Column</Table.Th>
              {change.old !== undefined && <Table.Th>Old</Table.Th>}
              {change.new !== undefined && <Table.Th>New</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {Array.from({ length: width }, (_, i) => {
              const name = columnName(change.change === 'removed' ? columns?.old : names, i)
              // Without column names, a modified row's changed values are found by position.
              const changed =
                change.change === 'modified' &&
                (names === undefined || names === null
                  ? change.old?.[i] !== change.new?.[i]
                  : fields.has(name))
              return (
                <Table.Tr key={i} data-changed={changed} className={classes.detailRow}>
                  <Table.Td>
                    <Text size="sm" ff="monospace" fw={changed ? 700 : 400}>
                      {changed && (
                        <span className={classes.changedMark} aria-label="changed">
                          ~{' '}
                        </span>
                      )}
                      {name}
                    </Text>
                  </Table.Td>
                  {change.old !== undefined && <ValueCell value={change.old[i]} />}
                  {change.new !== undefined && <ValueCell value={change.new[i]} />}
                </Table.Tr>
              )
            })}
          </Table.Tbody>
        </Table>
      )}
      {documents.map((field) => (
        <DocumentDiff
          key={field.column}
          column={field.column}
          oldValue={field.old}
          newValue={field.new}
          patch={(field.patch ?? []) as PatchOp[]}
        />
      ))}
    </Box>
  )
}

function ValueCell({ value }: { value: unknown }) {
  return (
    <Table.Td className={classes.value}>
      <Text size="sm" ff="monospace" className={classes.valueText}>
        {value === undefined ? '' : formatValue(value, 2000)}
      </Text>
    </Table.Td>
  )
}
