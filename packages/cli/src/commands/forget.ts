// `dbsnap forget`: removes snapshots a retention policy does not keep (their manifests); with
// --prune it then frees the space nothing references any more.

import * as Flags from '@oclif/core/flags'
import {
  catalogueName,
  parseDuration,
  type ForgetDecision,
  type ForgetJobResult,
  type PruneResult,
} from '@dbsnap/engine'
import { BaseCommand } from '../base-command.js'
import { plural, printable, style } from '../format.js'
import { pruneLine } from '../prune-output.js'
import { repoFlag, repositoryLocation } from '../repository.js'

const count = (description: string) => Flags.integer({ description, min: 0 })

export default class Forget extends BaseCommand<typeof Forget> {
  static override description =
    'Applies the policy to the snapshots of each catalogue name separately: a snapshot is kept when any rule keeps it (restic semantics). --dry-run lists what would go and changes nothing.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> --keep-last 7 --keep-monthly 12 --dry-run',
    '<%= config.bin %> <%= command.id %> --keep-within 30d --name shop --prune',
  ]

  static override flags = {
    name: Flags.string({
      aliases: ['connection'],
      description:
        'only snapshots of this catalogue name, or of the database at this connection URL (repeatable; --connection is an older spelling)',
      multiple: true,
    }),
    'dry-run': Flags.boolean({ description: 'list what would be removed; remove nothing' }),
    grace: Flags.string({
      default: '1h',
      description: 'with --prune: keep unreferenced objects younger than this',
    }),
    'keep-daily': count('keep the latest snapshot of each of the last N days that have one'),
    'keep-last': count('keep the N latest snapshots'),
    'keep-monthly': count('keep the latest snapshot of each of the last N months that have one'),
    'keep-weekly': count('keep the latest snapshot of each of the last N weeks that have one'),
    'keep-within': Flags.string({
      description: 'keep snapshots taken within this long of the latest (30d, 12h)',
    }),
    'keep-yearly': count('keep the latest snapshot of each of the last N years that have one'),
    prune: Flags.boolean({ description: 'then delete the data no snapshot references' }),
    repo: repoFlag,
  }

  static override summary = 'Remove snapshots by a retention policy.'

  async run(): Promise<ForgetJobResult> {
    // Checked here too, to name the flags in the messages.
    parseDuration(this.flags.grace, '--grace')
    if (this.flags['keep-within'] !== undefined) {
      parseDuration(this.flags['keep-within'], '--keep-within')
    }
    const policy = {
      keepLast: this.flags['keep-last'],
      keepWithin: this.flags['keep-within'],
      keepDaily: this.flags['keep-daily'],
      keepWeekly: this.flags['keep-weekly'],
      keepMonthly: this.flags['keep-monthly'],
      keepYearly: this.flags['keep-yearly'],
    }
    const result = await this.job({
      kind: 'forget',
      repository: repositoryLocation(this.flags.repo, this.settings.DBSNAP_REPO),
      policy,
      names: this.flags.name?.map(catalogueName),
      dryRun: this.flags['dry-run'],
      prune: this.flags.prune,
      grace: this.flags.grace,
    })
    if (!this.jsonEnabled()) {
      this.log(render(result.snapshots, result.prune, result.dryRun, this.flags.grace))
    }
    return result
  }
}

function render(
  decisions: ForgetDecision[],
  prune: PruneResult | null,
  dryRun: boolean,
  grace: string,
): string {
  const lines = decisions.map((d) =>
    d.keep
      ? `  keep    ${d.id.slice(0, 12)}  ${printable(d.name)}  ${d.startedAt}  ${style('dim', d.reasons.join(', '))}`
      : `  ${style('red', dryRun ? 'would remove' : 'removed')} ${d.id.slice(0, 12)}  ${printable(d.name)}  ${d.startedAt}`,
  )
  const gone = decisions.filter((d) => !d.keep).length
  lines.push(
    `${plural(gone, 'snapshot')} ${dryRun ? 'would be removed' : 'removed'}, ${decisions.length - gone} kept`,
  )
  if (prune !== null) lines.push(`pruned: ${pruneLine(prune, grace, false)}`)
  return lines.join('\n')
}
