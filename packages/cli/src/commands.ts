// Every command of `dbsnap`, by id: oclif's "explicit" command strategy reads this object from
// the bundle (package.json `oclif.commands`), so the binary is one module graph that a bundler can
// join, instead of a directory of command files found at run time (decision 0034).

import ConnectionTest from './commands/connection/test.js'
import Diff from './commands/diff.js'
import Diffs from './commands/diffs.js'
import Export from './commands/export.js'
import Forget from './commands/forget.js'
import Prune from './commands/prune.js'
import Restore from './commands/restore.js'
import Show from './commands/show.js'
import Snapshot from './commands/snapshot.js'
import Snapshots from './commands/snapshots.js'
import Verify from './commands/verify.js'

export const COMMANDS = {
  'connection:test': ConnectionTest,
  diff: Diff,
  diffs: Diffs,
  export: Export,
  forget: Forget,
  prune: Prune,
  restore: Restore,
  show: Show,
  snapshot: Snapshot,
  snapshots: Snapshots,
  verify: Verify,
}
