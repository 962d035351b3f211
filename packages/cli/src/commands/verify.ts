// `dbsnap verify`: checks that snapshots can be read back, naming every bad or missing object
// and the snapshots it breaks.

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import { DbsnapError, parseDataSubset, type VerifyResult } from '@dbsnap/engine'
import { BaseCommand } from '../base-command.js'
import { ExitCode } from '../exit-codes.js'
import { formatBytes, plural, printable, style } from '../format.js'
import { repoFlag, repositoryLocation } from '../repository.js'

export default class Verify extends BaseCommand<typeof Verify> {
  static override args = {
    snapshot: Args.string({ description: 'the snapshot to check (default with --all: every one)' }),
  }

  static override description =
    'Checks every manifest against its id and that every object a snapshot needs is present; what an object holds is not read. With --read-data-subset it also reads that share of the data chunks in full: decompresses them, applies deltas, checks their hash, parses every row and checks row counts and first/last keys. Exits 5 when anything is wrong.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> --all',
    '<%= config.bin %> <%= command.id %> shop@latest --read-data-subset 100%',
    '<%= config.bin %> <%= command.id %> --all --read-data-subset 1/7 --json',
  ]

  static override flags = {
    all: Flags.boolean({
      description: 'check every snapshot (the default when no snapshot is named)',
    }),
    'read-data-subset': Flags.string({
      description: 'also read this share of data chunks in full: 5% or n/t (part n of t)',
    }),
    repo: repoFlag,
  }

  static override summary = 'Check the integrity of snapshots.'

  async run(): Promise<VerifyResult> {
    if (this.flags.all && this.args.snapshot !== undefined) {
      throw new DbsnapError('INVALID_ARGUMENT', 'give a snapshot or --all, not both')
    }
    // Checked here too, to name the flag in the message.
    if (this.flags['read-data-subset'] !== undefined)
      parseDataSubset(this.flags['read-data-subset'])
    const result = await this.job({
      kind: 'verify',
      repository: repositoryLocation(this.flags.repo, this.settings.DBSNAP_REPO),
      snapshots: this.args.snapshot === undefined ? undefined : [this.args.snapshot],
      readDataSubset: this.flags['read-data-subset'],
    })
    if (result.problems.length > 0) process.exitCode = ExitCode.DATA
    if (!this.jsonEnabled()) this.log(render(result))
    return result
  }
}

function render(result: VerifyResult): string {
  const summary = `${plural(result.snapshots, 'snapshot')}, ${plural(result.objects, 'object')} referenced, ${plural(result.dataChunksRead, 'data chunk')} read in full (${formatBytes(result.bytesRead)})`
  // Presence says nothing of what an object holds: say so rather than let "no problems" imply it.
  const unread =
    result.dataChunksRead === 0
      ? '\n  no chunk was read in full, so no chunk content was checked: --read-data-subset reads them'
      : ''
  if (result.problems.length === 0) return `${style('green', '✔')} no problems: ${summary}${unread}`
  const lines = result.problems.map(
    (p) =>
      `${style('red', '✖')} [${p.code}] ${printable(p.object)}: ${printable(p.message)}\n    breaks ${plural(p.snapshots.length, 'snapshot')}: ${p.snapshots.map((id) => id.slice(0, 12)).join(', ')}`,
  )
  return [...lines, `${plural(result.problems.length, 'problem')} found: ${summary}`].join('\n')
}
