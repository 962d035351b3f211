// A job's state as a coloured badge (a spinner while it runs), and its progress in words.

import { Badge, Loader } from '@mantine/core'
import type { JobState } from '../job-queries.ts'

/** Filled badges take shade 9, whose white text keeps a 4.5:1 contrast. */
const COLORS: Record<JobState, string> = {
  pending: 'gray',
  running: 'blue',
  succeeded: 'teal.9',
  failed: 'red.9',
  dead: 'red.9',
  cancelled: 'yellow',
}

export function JobStateBadge({ state }: { state: JobState }) {
  return (
    <Badge
      color={COLORS[state]}
      variant={state === 'succeeded' || state === 'failed' || state === 'dead' ? 'filled' : 'light'}
      leftSection={state === 'running' ? <Loader size={10} color="blue" /> : undefined}
      data-testid="job-state"
    >
      {state}
    </Badge>
  )
}

interface Progress {
  phase?: unknown
  done?: unknown
  total?: unknown
  unit?: unknown
  table?: unknown
}

/** The engine's last progress event, short: `reading public.orders · 1,200 / 5,000 rows`. */
export function describeProgress(progress: unknown): string {
  if (progress === null || typeof progress !== 'object') return '—'
  const p = progress as Progress
  const parts: string[] = []
  if (typeof p.phase === 'string') parts.push(p.phase)
  if (typeof p.table === 'string') parts.push(p.table)
  if (typeof p.done === 'number') {
    const unit = typeof p.unit === 'string' ? ` ${p.unit}` : ''
    parts.push(
      typeof p.total === 'number'
        ? `${p.done.toLocaleString()} / ${p.total.toLocaleString()}${unit}`
        : `${p.done.toLocaleString()}${unit}`,
    )
  }
  return parts.length === 0 ? '—' : parts.join(' · ')
}
