// `dbsnap prune`: deletes stored data no snapshot references any more (after forget, or left by
// an interrupted snapshot), holding the repository's exclusive lock.

import * as Flags from '@oclif/core/flags'
import { parseDuration, type PruneResult } from '@dbsnap/engine'
import { BaseCommand } from '../base-command.js'
import { style } from '../format.js'
import { pruneLine } from '../prune-output.js'
import { repoFlag, repositoryLocation } from '../repository.js'

export default class Prune extends BaseCommand<typeof Prune> {
  static override description =
    'Takes the exclusive lock (fails if a snapshot is running), finds every object the remaining snapshots reference, and deletes the others that are older than the grace period, plus leftover temporary files of interrupted writes.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> --repo /backups/shop',
    '<%= config.bin %> <%= command.id %> --grace 0s --dry-run --json',
  ]

  static override flags = {
    'dry-run': Flags.boolean({ description: 'count what would be deleted; delete nothing' }),
    grace: Flags.string({
      default: '1h',
      description: 'keep unreferenced objects younger than this',
    }),
    repo: repoFlag,
  }

  static override summary = 'Delete data no snapshot references.'

  async run(): Promise<PruneResult> {
    // Checked here too, to name the flag in the message.
    parseDuration(this.flags.grace, '--grace')
    const result = await this.job({
      kind: 'prune',
      repository: repositoryLocation(this.flags.repo, this.settings.DBSNAP_REPO),
      grace: this.flags.grace,
      dryRun: this.flags['dry-run'],
    })
    if (!this.jsonEnabled()) {
      this.log(
        `${style('green', '✔')} ${pruneLine(result, this.flags.grace, this.flags['dry-run'])}`,
      )
    }
    return result
  }
}
