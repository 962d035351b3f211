// The oldest Node.js DBSnap's programs run on. Each binary (`dbsnap`, `dbsnap-agent`,
// `dbsnap-control-plane`) checks it first, importing only this module statically: on an older
// Node, loading the rest fails on a newer API with a stack trace (a `SyntaxError` for a missing
// export of `node:module`), or runs and does the wrong thing. This module uses nothing newer than
// the Node.js versions it turns away.

/** `engines.node` of every package.json (a test keeps them equal). */
export const NODE_MINIMUM = { major: 22, minor: 12 } as const

/** Why a Node.js of `version` (as in `process.versions.node`) cannot run DBSnap; null when it can. */
export function unsupportedNode(version: string): string | null {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  const { major: needMajor, minor: needMinor } = NODE_MINIMUM
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return null
  return `needs Node.js ${needMajor}.${needMinor} or newer, and this is Node.js v${version}`
}

/**
 * Ends the process with a `CONFIG_INVALID` error (exit 2, docs/errors.md) when the `node` running
 * `program` is too old: one line on stderr, or with `json` the error document on stdout.
 */
export function requireSupportedNode(program: string, options: { json?: boolean } = {}): void {
  const version = process.versions.node
  const reason = unsupportedNode(version)
  if (reason === null) return
  const message = `${program} ${reason} (${process.execPath}): put a newer node first on the PATH`
  if (options.json === true) {
    const { major, minor } = NODE_MINIMUM
    const details = { node: `v${version}`, required: `>=${major}.${minor}` }
    const error = { code: 'CONFIG_INVALID', message, retryable: false, details }
    process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`)
  } else {
    process.stderr.write(`${program}: error [CONFIG_INVALID]: ${message}\n`)
  }
  process.exit(2)
}
