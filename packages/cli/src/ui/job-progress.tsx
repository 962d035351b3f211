// Live progress of any job on a terminal (ink): what it is doing and on which table, how far it
// is (a bar when the total is known), its own counters and its rate. One view for every kind:
// the engine's events share one envelope (JobEvent).

import { Box, Text, render, type Instance } from 'ink'
import type { JobEvent } from '@dbsnap/engine'
import { formatBytes, formatCount, printable } from '../format.js'

/** Counters that are sizes; the others are counts. */
const BYTE_COUNTERS = new Set(['bytes', 'storedBytes'])
/** How counters read, in the order shown; those not listed are not shown. */
const COUNTER_LABELS: [string, string][] = [
  ['tablesDone', 'tables'],
  ['rowsRead', 'rows read'],
  ['bytes', 'read'],
  ['storedBytes', 'stored'],
  ['chunksNew', 'chunks new'],
  ['chunksReused', 'reused'],
  ['added', 'added'],
  ['removed', 'removed'],
  ['modified', 'modified'],
  ['inserted', 'inserted'],
  ['updated', 'updated'],
  ['deleted', 'deleted'],
  ['dataChunksRead', 'chunks read'],
]

const BAR_WIDTH = 24

function bar(done: number, total: number): string {
  const filled = Math.min(BAR_WIDTH, Math.round((done / Math.max(1, total)) * BAR_WIDTH))
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`
}

function JobView({ event }: { event: JobEvent }): React.JSX.Element {
  const seconds = Math.max(0.001, event.elapsedMs / 1000)
  const counters = COUNTER_LABELS.flatMap(([name, label]) => {
    const value = event.counters[name]
    if (value === undefined || value === 0) return []
    if (name === 'tablesDone') {
      const tables = event.counters.tables
      return [
        `${formatCount(value)}${tables === undefined ? '' : ` of ${formatCount(tables)}`} ${label}`,
      ]
    }
    const text = BYTE_COUNTERS.has(name) ? formatBytes(value) : formatCount(value)
    return [`${text} ${label}`]
  })
  // A snapshot's total comes from the planner's estimates; the others are counted.
  const estimated = event.kind === 'snapshot' ? '~' : ''
  const total = event.total !== null && event.total > 0 ? event.total : null
  return (
    <Box flexDirection="column">
      <Text>
        <Text color="cyan">{'⠿ '}</Text>
        <Text bold>{event.kind}</Text> {event.phase}
        {event.table !== null && <Text> {printable(event.table)}</Text>}
      </Text>
      <Text>
        {total !== null && <Text color="cyan">{bar(event.done, total)} </Text>}
        {formatCount(event.done)}
        {total !== null && ` / ${estimated}${formatCount(total)}`} {event.unit} ·{' '}
        {formatCount(Math.round(event.done / seconds))} {event.unit}/s · {Math.round(seconds)} s
      </Text>
      {counters.length > 0 && <Text dimColor>{counters.join(' · ')}</Text>}
    </Box>
  )
}

/** Renders a job's events to stderr until `stop()`, redrawn at most five times a second. */
export class JobProgressView {
  #instance: Instance | undefined
  #event: JobEvent | undefined
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  update(event: JobEvent): void {
    if (this.#stopped) return
    this.#event = event
    if (this.#instance === undefined) {
      this.#instance = render(<JobView event={event} />, {
        stdout: process.stderr,
        patchConsole: false,
      })
      this.#timer = setInterval(() => {
        if (this.#event !== undefined) this.#instance?.rerender(<JobView event={this.#event} />)
      }, 200)
    }
  }

  /** Clears the view for good: later events are not drawn. */
  stop(): void {
    this.#stopped = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#instance?.clear()
    this.#instance?.unmount()
    this.#instance = undefined
  }
}
