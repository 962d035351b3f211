// `dbsnap diffs [id]`: the diffs saved with `dbsnap diff --save`, and pages of one of them,
// filtered by table or kind of change, or searched by key or value, without recomputing it.

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {
  byCodeUnit,
  DbsnapError,
  queryDiffPage,
  readSavedDiff,
  type DiffPage,
  type SavedDiff,
} from '@dbsnap/engine'
import Table from 'cli-table3'
import { BaseCommand } from '../base-command.js'
import { colorize, rowLine, schemaLine, summaryLine } from '../diff-output.js'
import { plural, printable, style } from '../format.js'
import { openRepository, repoFlag, repositoryLocation } from '../repository.js'

interface ListedDiff {
  id: string
  savedAt: string
  from: SavedDiff['from']
  to: SavedDiff['to']
  summary: SavedDiff['summary']
}

type DiffsResult = { diffs: ListedDiff[] } | ({ id: string } & DiffPage)

export default class Diffs extends BaseCommand<typeof Diffs> {
  static override args = {
    id: Args.string({ description: 'a saved diff id or unique prefix: show a page of it' }),
  }

  static override description =
    'Without an id: the saved diffs of the repository, newest first. With an id: one page of its row changes (default 100), optionally only one table, one kind of change, or those whose key or values contain a text; the first page also lists the schema changes.'

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> 3f2a9c --page 2',
    '<%= config.bin %> <%= command.id %> 3f2a9c --table public.orders --change modified',
    '<%= config.bin %> <%= command.id %> 3f2a9c --search alice@example.com --json',
  ]

  static override flags = {
    change: Flags.option({
      description: 'only changes of this kind',
      options: ['added', 'removed', 'modified'] as const,
    })(),
    page: Flags.integer({ description: 'page number, from 1', default: 1, min: 1 }),
    'page-size': Flags.integer({ description: 'changes per page', default: 100, min: 1 }),
    repo: repoFlag,
    search: Flags.string({ description: 'only changes whose key or values contain this text' }),
    table: Flags.string({ description: 'only changes of this table (schema.table)' }),
  }

  static override summary = 'List saved diffs, or page through one.'

  async run(): Promise<DiffsResult> {
    const signal = this.abort.signal
    const repository = await openRepository(
      repositoryLocation(this.flags.repo, this.settings.DBSNAP_REPO),
      { signal },
    )
    try {
      if (this.args.id === undefined) {
        const diffs: ListedDiff[] = []
        for (const id of await repository.listSavedDiffIds(signal)) {
          const { saved } = await readSavedDiff(repository, id, signal)
          diffs.push({
            id,
            savedAt: saved.savedAt,
            from: saved.from,
            to: saved.to,
            summary: saved.summary,
          })
        }
        diffs.sort((a, b) => byCodeUnit(b.savedAt, a.savedAt))
        if (!this.jsonEnabled()) this.log(renderList(diffs))
        return { diffs }
      }
      const { id, saved } = await readSavedDiff(repository, this.args.id, signal)
      const page = await queryDiffPage(repository, saved, {
        page: this.flags.page,
        pageSize: this.flags['page-size'],
        table: this.flags.table,
        change: this.flags.change,
        search: this.flags.search,
        signal,
      })
      // Without a search the page count is known; with one, an empty page past the first is past
      // the last match.
      if (page.page > 1 && page.changes.length === 0) {
        throw new DbsnapError(
          'INVALID_ARGUMENT',
          page.total === null
            ? `expected --page 1 to ${page.page - 1} at most: the matches end before page ${page.page}`
            : `expected --page 1 to ${pageCount(page.total, page.pageSize)}: the diff has ${plural(page.total, 'change')} in pages of ${page.pageSize}; got ${page.page}`,
        )
      }
      if (!this.jsonEnabled()) this.#renderPage(id, saved, page)
      return { id, ...page }
    } finally {
      await repository.close()
    }
  }

  #renderPage(id: string, saved: SavedDiff, page: DiffPage): void {
    this.log(
      `${style('bold', `diff ${id.slice(0, 12)}`)}: ${printable(saved.from.name)} → ${printable(saved.to.name)}, ${summaryLine(saved.summary)}`,
    )
    if (page.page === 1 && saved.schema.length > 0 && this.flags.table === undefined) {
      for (const change of saved.schema)
        this.log(`  ${colorize(change.change, schemaLine(change))}`)
    }
    let table: string | null = null
    for (const change of page.changes) {
      if (change.table !== table) {
        table = change.table
        this.log(`  ${style('bold', printable(table))}`)
      }
      this.log(
        `    ${colorize(change.change, rowLine(change, saved.to.engine ?? saved.from.engine))}`,
      )
    }
    const pages = page.total === null ? null : pageCount(page.total, page.pageSize)
    const of = pages === null ? '' : ` of ${pages} (${page.total} changes)`
    this.log(
      style('dim', `page ${page.page}${of}${page.changes.length === 0 ? ': no changes' : ''}`),
    )
  }
}

/** Pages of `size` changes that `total` changes fill; an empty diff has one, empty, page. */
function pageCount(total: number, size: number): number {
  return Math.max(1, Math.ceil(total / size))
}

function renderList(diffs: ListedDiff[]): string {
  if (diffs.length === 0) return 'no saved diffs: dbsnap diff <from> <to> --save'
  const table = new Table({
    head: ['id', 'saved', 'from', 'to', 'changes'],
    style: { head: [], border: [] },
  })
  for (const d of diffs) {
    const side = (s: ListedDiff['from']): string =>
      `${printable(s.name)} ${s.snapshot?.slice(0, 8) ?? ''}`
    table.push([d.id.slice(0, 12), d.savedAt, side(d.from), side(d.to), summaryLine(d.summary)])
  }
  return table.toString()
}
