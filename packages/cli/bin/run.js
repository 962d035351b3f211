#!/usr/bin/env -S node --max-semi-space-size=8 --initial-old-space-size=64 --expose-gc
// Entry point of the `dbsnap` command. Each invocation is one traced operation: every log line
// carries the same trace id (DBSNAP_TRACE_ID when a caller such as CI passes one).
// The small young generation keeps memory flat whatever the size of the data, in this thread,
// without the cost of a worker thread (decision 0017), and `gc` is there for the garbage governor
// (exposing it at run time costs a new context, ~15 ms). The old generation starts at 64 MiB, as
// chunk buffers count against it: V8 otherwise runs a full GC every ~15 MiB of them (decision
// 0036). Tests and benches read the flags here.
// This file imports only Node's built-in modules statically: what a command needs is imported
// after the compile cache is on, and `--version` needs nothing (decision 0027). The rest is the
// bundle `npm run build` makes (decision 0034): a few modules instead of ~480.
import { mkdirSync, readFileSync, statSync } from 'node:fs'
import * as nodeModule from 'node:module'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join } from 'node:path'

/**
 * Where V8 keeps the compiled code of the modules a command loads, so that a short command does
 * not spend most of its time compiling: the user's own cache directory, not the shared temporary
 * directory, where any other user could have put code in its place. Undefined when
 * NODE_COMPILE_CACHE is set: Node has then turned the cache on there already.
 */
function compileCacheDir() {
  if (process.env.NODE_COMPILE_CACHE) return undefined
  const xdg = process.env.XDG_CACHE_HOME
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'dbsnap', 'compile-cache')
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) {
    return join(process.env.LOCALAPPDATA, 'dbsnap', 'compile-cache')
  }
  const home = homedir()
  return process.platform === 'darwin'
    ? join(home, 'Library', 'Caches', 'dbsnap', 'compile-cache')
    : join(home, '.cache', 'dbsnap', 'compile-cache')
}

/** The oldest Node.js the bundle runs on: NODE_MINIMUM of `@dbsnap/engine/supported-node`. */
const NODE_MINIMUM = [22, 12]

/**
 * An older Node.js than the bundle needs gets one CONFIG_INVALID line (exit 2), not a stack trace
 * from the bundle's first newer API: `requireSupportedNode` of `@dbsnap/engine/supported-node`,
 * which the other binaries use, written out here so that `--version` loads no module of ours.
 */
function requireSupportedNode() {
  const version = process.versions.node
  const [major, minor] = version.split('.').map(Number)
  const [needMajor, needMinor] = NODE_MINIMUM
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return
  const message =
    `dbsnap needs Node.js ${needMajor}.${needMinor} or newer, and this is Node.js v${version} ` +
    `(${process.execPath}): put a newer node first on the PATH`
  if (process.argv.includes('--json')) {
    const details = { node: `v${version}`, required: `>=${needMajor}.${needMinor}` }
    const error = { code: 'CONFIG_INVALID', message, retryable: false, details }
    process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`)
  } else {
    process.stderr.write(`dbsnap: error [CONFIG_INVALID]: ${message}\n`)
  }
  process.exit(2)
}

requireSupportedNode()

// A cache is only ever a speed-up: a directory that cannot be created or written, or no home
// directory at all, leaves it off (Node reports those as a status, not an error) and the command
// runs as it would without. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
/**
 * Makes `dir` with its missing parents, top-down, one `mkdir` each; false when one fails. Node's
 * own recursive mkdir, which `enableCompileCache` uses, retries for ever where a parent exists
 * but cannot hold children (under /proc, a dangling link), so it only ever finds `dir` made.
 */
function madeDirectory(dir) {
  const missing = []
  for (let at = dir; ; at = dirname(at)) {
    try {
      if (statSync(at).isDirectory()) break
      return false
    } catch {
      if (dirname(at) === at) return false
      missing.unshift(at)
    }
  }
  try {
    for (const at of missing) mkdirSync(at, 0o700)
    return true
  } catch {
    return false
  }
}

try {
  const dir = compileCacheDir()
  if (dir === undefined || madeDirectory(dir)) nodeModule.enableCompileCache(dir)
} catch {
  // homedir() throws when the user has no home directory: run without the cache.
}

// Like any Unix filter, `dbsnap … | head` ends quietly and succeeds once its reader has closed
// the pipe, whatever it was printing (help, --version, a command's output): what is left to print
// goes nowhere, at once. A flush waiting for 'drain', which a closed pipe never emits, would
// otherwise leave the process with nothing to do and Node would end it with exit code 13. Other
// stdout errors stay errors. A command also stops its work then (BaseCommand).
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err
  process.stdout.write = () => true
  process.stdout.emit('drain')
})

if (process.argv[2] === '--version') {
  // What oclif prints for --version (its `userAgent`), without loading oclif and the command
  // manifest for one line: a third of the time of the whole run. oclif says `wsl` for the
  // platform under WSL; this says `linux`.
  const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url)))
  const arch = process.arch === 'ia32' ? 'x86' : process.arch
  process.stdout.write(`${name}/${version} ${process.platform}-${arch} node-${process.version}\n`)
} else {
  const { execute, newTraceId, withTraceId } = await import('../bundle/main.js')

  const traceId = /^[0-9a-f]{32}$/.test(process.env.DBSNAP_TRACE_ID ?? '')
    ? process.env.DBSNAP_TRACE_ID
    : newTraceId()

  await withTraceId(traceId, () => execute({ dir: import.meta.url }))

  // The command is done and has closed what it opened: exit now, with its exit code, rather than
  // let Node tear its heap down piece by piece (~10 ms of every command, more after big ones;
  // `--version` has too small a heap to gain). Output still buffered (a pipe where writes are
  // asynchronous) drains the usual way first.
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit()
}
