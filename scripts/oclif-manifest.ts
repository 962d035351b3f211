// Writes packages/cli/oclif.manifest.json at the end of `npm run build`: the commands' ids, flags
// and help, so that a `dbsnap` run loads only the command it runs (`dbsnap --version`: none).

import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Plugin } from '@oclif/core'

const root = fileURLToPath(new URL('../packages/cli/', import.meta.url))
// As `oclif manifest` does: read every built command, never an old manifest, fail on any error.
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true })
await plugin.load()
writeFileSync(`${root}oclif.manifest.json`, `${JSON.stringify(plugin.manifest, null, 2)}\n`)
