// A document or JSON value's change in Monaco's diff editor (side by side or inline), with the
// nested paths of the change's RFC 6902 patch listed and their lines highlighted on each side.
// The layout chosen is kept in the browser for the next document. Monaco is imported when the
// first document diff is shown (src/monaco.ts).

import { Button, Code, Group, SegmentedControl, Stack, Text } from '@mantine/core'
import { useLocalStorage } from '@mantine/hooks'
import { useEffect, useMemo, useRef, useState } from 'react'
import { CHANGE_STYLE } from '../diff-format.ts'
import { linesOf, parseJsonValue, prettyJson, type LineRange } from '../json-lines.ts'
import type { monaco as Monaco } from '../monaco.ts'
import { ErrorAlert } from './error-alert.tsx'
import './document-diff.css'

export interface PatchOp {
  op: 'add' | 'remove' | 'replace'
  path: string
}

type Mode = 'side-by-side' | 'inline'
type DiffEditor = ReturnType<typeof Monaco.editor.createDiffEditor>

let loading: Promise<{ monaco: typeof Monaco }> | undefined
const loadMonaco = () => (loading ??= import('../monaco.ts'))

const LINE_HEIGHT = 19
const MAX_HEIGHT = 440

/** An RFC 6902 op in the change's words: a removed path is on the old side only, and so on. */
const OP_TYPE = { add: 'added', remove: 'removed', replace: 'modified' } as const

export function DocumentDiff({
  column,
  oldValue,
  newValue,
  patch,
}: {
  column: string
  oldValue: unknown
  newValue: unknown
  patch: readonly PatchOp[]
}) {
  const [mode, setMode] = useLocalStorage<Mode>({
    key: 'dbsnap.document-diff.layout',
    defaultValue: 'side-by-side',
    // Read before the first render, so that a remembered inline layout does not flash side by side.
    getInitialValueInEffect: false,
    serialize: (value) => value,
    deserialize: (value) => (value === 'inline' ? 'inline' : 'side-by-side'),
  })
  const [error, setError] = useState<unknown>()
  const host = useRef<HTMLDivElement>(null)
  const editor = useRef<DiffEditor>(undefined)
  const before = useMemo(() => prettyJson(parseJsonValue(oldValue)), [oldValue])
  const after = useMemo(() => prettyJson(parseJsonValue(newValue)), [newValue])
  const lines = Math.max(before.text.split('\n').length, after.text.split('\n').length)

  // Where each path is on each side: the old side shows what was removed or replaced, the new
  // side what was added or replaced.
  const marks = useMemo(
    () =>
      patch.map((op) => ({
        ...op,
        old: op.op === 'add' ? undefined : linesOf(before, op.path),
        new: op.op === 'remove' ? undefined : linesOf(after, op.path),
      })),
    [patch, before, after],
  )

  useEffect(() => {
    let disposed = false
    let dispose = () => {}
    loadMonaco().then(
      ({ monaco }) => {
        if (disposed || host.current === null) return
        const original = monaco.editor.createModel(before.text, 'json')
        const modified = monaco.editor.createModel(after.text, 'json')
        const diffEditor = monaco.editor.createDiffEditor(host.current, {
          readOnly: true,
          originalEditable: false,
          automaticLayout: true,
          renderSideBySide: true,
          useInlineViewWhenSpaceIsLimited: false,
          minimap: { enabled: false },
          scrollBeyondLastLine: false,
          renderOverviewRuler: false,
          lineNumbersMinChars: 3,
          fontSize: 13,
          lineHeight: LINE_HEIGHT,
          ariaLabel: `Changes of ${column}`,
        })
        diffEditor.setModel({ original, modified })
        const decorate = (ranges: (LineRange | undefined)[]) =>
          ranges
            .filter((range) => range !== undefined)
            .map((range) => ({
              range: new monaco.Range(range.start, 1, range.end, 1),
              options: {
                isWholeLine: true,
                className: 'dbsnap-changed-path',
                linesDecorationsClassName: 'dbsnap-changed-path-margin',
              },
            }))
        diffEditor
          .getOriginalEditor()
          .createDecorationsCollection(decorate(marks.map((m) => m.old)))
        diffEditor
          .getModifiedEditor()
          .createDecorationsCollection(decorate(marks.map((m) => m.new)))
        editor.current = diffEditor
        dispose = () => {
          diffEditor.dispose()
          original.dispose()
          modified.dispose()
        }
      },
      (cause: unknown) => setError(cause),
    )
    return () => {
      disposed = true
      editor.current = undefined
      dispose()
    }
  }, [before, after, marks, column])

  useEffect(() => {
    editor.current?.updateOptions({ renderSideBySide: mode === 'side-by-side' })
  }, [mode])

  const reveal = (mark: (typeof marks)[number]) => {
    const line = mark.new?.start ?? mark.old?.start
    if (line === undefined || editor.current === undefined) return
    const side = mark.new === undefined ? 'getOriginalEditor' : 'getModifiedEditor'
    editor.current[side]().revealLineInCenter(line)
  }

  // Inline mode shows both sides' lines one above the other.
  const shown = mode === 'inline' ? lines * 2 : lines
  return (
    <Stack gap="xs" data-testid="document-diff" data-mode={mode}>
      <Group justify="space-between">
        <Text size="sm" fw={600}>
          {column}
        </Text>
        <SegmentedControl
          size="xs"
          aria-label={`Layout of the changes of ${column}`}
          data={[
            { value: 'side-by-side', label: 'Side by side' },
            { value: 'inline', label: 'Inline' },
          ]}
          value={mode}
          onChange={setMode}
        />
      </Group>
      {patch.length > 0 && (
        <Group gap="xs" data-testid="changed-paths" aria-label="Changed paths">
          {marks.map((mark) => {
            const style = CHANGE_STYLE[OP_TYPE[mark.op]]
            return (
              <Button
                key={`${mark.op} ${mark.path}`}
                size="compact-xs"
                variant="default"
                leftSection={<span aria-hidden>{style.sign}</span>}
                onClick={() => reveal(mark)}
                title={`Show ${mark.path} (${mark.op})`}
              >
                <Code bg="transparent" c="inherit">
                  {mark.path === '' ? '/' : mark.path}
                </Code>
                <Text span size="xs" ml={6} c="dimmed">
                  {mark.op}
                </Text>
              </Button>
            )
          })}
        </Group>
      )}
      <ErrorAlert error={error} title="The editor could not be loaded" />
      <div
        ref={host}
        className="dbsnap-document-diff"
        style={{ height: Math.min(MAX_HEIGHT, shown * LINE_HEIGHT + 12) }}
      />
    </Stack>
  )
}
