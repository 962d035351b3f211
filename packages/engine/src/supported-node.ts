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
 * Ends the process with a `CONFIG_INVALID` error (exit 2, docs/errors.md), one line on stderr,
 * when the `node` running `program` is too old. (`dbsnap` writes the same check out in its
 * `bin/run.js`, with `--json`, so that `--version` loads no module of ours.)
 */
export function requireSupportedNode(program: string): void {
  const reason = unsupportedNode(process.versions.node)
  if (reason === null) return
  const message = `${program} ${reason} (${process.execPath}): put a newer node first on the PATH`
  process.stderr.write(`${program}: error [CONFIG_INVALID]: ${message}\n`)
  process.exit(2)
}
