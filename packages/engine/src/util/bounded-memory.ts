// Keeping a thread's memory flat whatever the size of the data (decisions 0009, 0017 and 0035): a
// small young generation for the rows, which are short-lived garbage, no allocation-site
// pretenuring (which could tenure them), and a governor that runs a full GC when dead buffers
// (socket reads, chunks, compressed objects) or big strings pile up.

import v8 from 'node:v8'
import vm from 'node:vm'

/**
 * Young generation a bounded thread runs with, MiB: small enough to keep RSS flat, large enough
 * not to thrash. V8 splits it in three (two semi-spaces and the new large-object space), so it is
 * `--max-semi-space-size=8` for a whole process.
 */
export const YOUNG_GENERATION_MB = 24

/** The largest `--max-semi-space-size` (MiB) a process may run with and still count as bounded. */
const MAX_BOUNDED_SEMI_SPACE_MB = YOUNG_GENERATION_MB / 3

/**
 * Whether this thread's young generation is already bounded: a worker started with
 * `resourceLimits`, or a process started with `--max-semi-space-size` of at most 8 (the
 * `dbsnap` binary's shebang passes it). Work that streams a whole database can then run right
 * here instead of paying for a worker thread.
 */
export function youngGenerationBounded(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  let semiSpace: number | undefined
  for (const flag of flags) {
    const match = /^--max[-_]semi[-_]space[-_]size=(\d+)$/.exec(flag)
    if (match !== null) semiSpace = Number(match[1])
  }
  return semiSpace !== undefined && semiSpace > 0 && semiSpace <= MAX_BOUNDED_SEMI_SPACE_MB
}

/**
 * Big buffers, and strings decoded from them (Node keeps a large ASCII string outside the heap,
 * as V8 "external" memory), are freed only by a full GC, and V8 starts one only once 64 MiB of
 * them have piled up since the last, later still when the machine is busy and its marking threads
 * lag. While held, the governor runs one itself whenever external memory outgrows what was live
 * after the last one by `GARBAGE_BUDGET`, so peak memory stays flat whatever the table size
 * (bench/memory.ts). 24 MiB left a snapshot of scattered updates (every chunk a delta, each
 * leaving ~3 MiB of promoted lines and strings) at 264 MiB on S3; at 12 MiB (and a 24 MiB heap
 * budget) it peaks ~20 MiB lower locally, for no measurable CPU: a full GC of this heap takes a
 * few milliseconds.
 */
const GARBAGE_BUDGET = 12 * 1024 * 1024
/** Buffers below this never trigger a GC: the chunk pools of a table writer alone hold ~20 MiB. */
const MIN_THRESHOLD = 40 * 1024 * 1024
/**
 * The same for the JavaScript heap: rows that outlive a scavenge or two (held while a chunk waits
 * on storage, a delta's base lines) are promoted, and the old generation is let grow far past
 * what is live before V8 collects it.
 */
const HEAP_BUDGET = 24 * 1024 * 1024
/** How often the governor looks at memory; a snapshot reads ~10 MiB in this time. */
const GOVERNOR_INTERVAL_MS = 50

let holders = 0
let timer: NodeJS.Timeout | undefined
let fullGc: (() => void) | null | undefined
let gcThreshold = MIN_THRESHOLD
let heapThreshold = Number.POSITIVE_INFINITY

/**
 * Starts this thread's garbage governor, or joins it when it runs already; call the function
 * returned when the work is done. Checked on a clock, not per chunk: buffers also pile up while
 * chunks wait on storage. The timer never keeps the process alive.
 */
export function holdGarbageGovernor(): () => void {
  turnOffPretenuring()
  fullGc ??= exposeGc()
  if (fullGc === null) return () => {}
  holders++
  if (timer === undefined) {
    heapThreshold = process.memoryUsage().heapUsed + HEAP_BUDGET
    timer = setInterval(keepGarbageInBudget, GOVERNOR_INTERVAL_MS)
    timer.unref()
  }
  let released = false
  return () => {
    if (released) return
    released = true
    if (--holders === 0) {
      clearInterval(timer)
      timer = undefined
    }
  }
}

function keepGarbageInBudget(): void {
  if (fullGc == null) return
  const before = process.memoryUsage()
  if (before.external < gcThreshold && before.heapUsed < heapThreshold) return
  fullGc()
  const after = process.memoryUsage()
  gcThreshold = Math.max(MIN_THRESHOLD, after.external + GARBAGE_BUDGET)
  heapThreshold = after.heapUsed + HEAP_BUDGET
}

let pretenuring = true

/**
 * Turns off V8's allocation-site pretenuring for the process. V8 watches the objects each
 * allocation site makes, and once enough of them outlive a scavenge it allocates the site's
 * objects straight in the old generation. Rows are short-lived, but some outlive a scavenge
 * (a batch held while a chunk is cut), and whether that happens often enough early in a table
 * decides, from one run to the next, whether the sites of the parser's arrays are tenured. When
 * they are, each row's array is old-generation garbage that keeps its young strings alive until a
 * full GC: a third of every scavenge survived and was promoted (240 MB for a 600,000-row table,
 * against 5 MB otherwise), and the snapshot took 10–15% longer in the runs where it happened.
 * Idempotent; a flag of the whole process (worker threads included), set before rows flow.
 */
function turnOffPretenuring(): void {
  if (!pretenuring) return
  pretenuring = false
  v8.setFlagsFromString('--no-allocation-site-pretenuring')
}

/**
 * V8's `gc()` for this isolate, or null: the global one when the process runs with `--expose-gc`
 * (the `dbsnap` binary does), else the flag set at run time, which applies to new contexts only.
 */
function exposeGc(): (() => void) | null {
  const global = (globalThis as { gc?: unknown }).gc
  if (typeof global === 'function') return () => void (global as () => unknown)()
  try {
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as unknown
    return typeof gc === 'function' ? () => void (gc as () => unknown)() : null
  } catch {
    return null
  }
}
