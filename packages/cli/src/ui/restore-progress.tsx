// Live progress of `dbsnap restore` on a terminal (ink): the table being loaded with its rows
// against the snapshot's count, and how many tables are done.

import { Box, Text, render, type Instance } from 'ink'
import type { RestoreProgress } from '@dbsnap/engine'
import { formatCount, printable } from '../format.js'

interface ViewProps {
  table: string | null
  rows: number
  total: number
  done: number
  startedAt: number
  now: number
}

function RestoreView({ table, rows, total, done, startedAt, now }: ViewProps): React.JSX.Element {
  const seconds = Math.max(0.001, (now - startedAt) / 1000)
  return (
    <Box flexDirection="column">
      {table !== null && (
        <Text>
          <Text color="cyan">{'⠿ '}</Text>
          {printable(table)}{' '}
          <Text dimColor>
            {formatCount(rows)} / {formatCount(total)} rows
          </Text>
        </Text>
      )}
      <Text>
        {done} tables restored · {Math.round(seconds)} s
      </Text>
    </Box>
  )
}

/** Renders restore progress events to stderr until `stop()`. */
export class RestoreProgressView {
  #instance: Instance | undefined
  #table: string | null = null
  #rows = 0
  #total = 0
  #done = 0
  readonly #startedAt = Date.now()
  #timer: NodeJS.Timeout | undefined

  update(event: RestoreProgress): void {
    if (event.type === 'table-start') {
      this.#table = event.table
      this.#rows = 0
      this.#total = event.rows
    } else if (event.type === 'rows') {
      this.#rows += event.rows
    } else {
      this.#done++
      this.#table = null
    }
    if (this.#instance === undefined) {
      this.#instance = render(this.#view(), { stdout: process.stderr, patchConsole: false })
      this.#timer = setInterval(() => this.#instance?.rerender(this.#view()), 200)
    }
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#instance?.clear()
    this.#instance?.unmount()
    this.#instance = undefined
  }

  #view(): React.JSX.Element {
    return (
      <RestoreView
        table={this.#table}
        rows={this.#rows}
        total={this.#total}
        done={this.#done}
        startedAt={this.#startedAt}
        now={Date.now()}
      />
    )
  }
}
