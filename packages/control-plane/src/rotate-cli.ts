// `dbsnap-control-plane rotate-secret-key [--previous-key-file <path>]`: re-encrypts every stored
// credential under the current key (DBSNAP_SECRET_KEY / _FILE). The old key comes from
// DBSNAP_SECRET_KEY_PREVIOUS or from the file the flag names — never as an argument itself, which
// would sit in the shell's history and in `ps`.

import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { ControlPlaneError } from './errors.js'
import type { SecretKeySettings } from './secrets/secret-keys.js'

export const ROTATE_USAGE =
  'usage: dbsnap-control-plane rotate-secret-key [--previous-key-file <path>]'

/** The settings with the previous key of `--previous-key-file`, when given, in place of the env's. */
export async function rotationSettings(
  args: readonly string[],
  settings: SecretKeySettings,
): Promise<SecretKeySettings> {
  let file: string | undefined
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { 'previous-key-file': { type: 'string' } },
      allowPositionals: true,
      strict: true,
    })
    if (positionals.length > 0) throw new Error('no positionals')
    file = values['previous-key-file']
  } catch {
    throw new ControlPlaneError('CONFIG_INVALID', ROTATE_USAGE)
  }
  if (file === undefined) return settings
  const previous = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new ControlPlaneError('CONFIG_INVALID', `the previous key file ${file} cannot be read`, {
      cause: err,
    })
  })
  return { ...settings, previous }
}
