// Micro-benchmark of the COPY TEXT parser: MB/s over ~100 MB of generated COPY output in 64 KiB
// chunks, parse only and parse + canonical conversion. Run: node bench/copy-parse.ts [MB]

import { registerHooks } from 'node:module'
import { performance } from 'node:perf_hooks'

// Node runs TypeScript by stripping types but resolves imports literally; the sources import
// `./x.js` for `./x.ts` (NodeNext style), so map those here instead of needing a build.
registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (err) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
      }
      throw err
    }
  },
})

const { CopyTextParser, copyTextLine } =
  await import('../packages/engine/src/adapters/postgres/postgres-copy.js')
const { pgTextToCanonical } =
  await import('../packages/engine/src/adapters/postgres/postgres-values.js')
type ValueEncoding = 'boolean' | 'integer' | 'bigint' | 'float' | 'text'

const targetMb = Number(process.argv[2] ?? 100)
const CHUNK = 64 * 1024

/** A deterministic pseudo-random generator, so every run parses the same bytes. */
function lcg(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    return x / 2 ** 32
  }
}

const encodings: ValueEncoding[] = [
  'integer',
  'text',
  'text',
  'bigint',
  'float',
  'boolean',
  'text',
  'text',
]
const words = [
  'alpha',
  'beta',
  'gamma',
  'delta',
  'épsilon',
  '日本語',
  'emoji😀',
  'tab\there',
  'back\\slash',
  'line\nbreak',
]

function generate(bytes: number): Buffer {
  const rand = lcg(42)
  const parts: string[] = []
  let size = 0
  for (let id = 1; size < bytes; id++) {
    const sentence = Array.from(
      { length: 3 + Math.floor(rand() * 8) },
      () => words[Math.floor(rand() * words.length)],
    ).join(' ')
    const line = copyTextLine([
      String(id),
      `customer-${Math.floor(rand() * 1e6)}@example.com`,
      `2024-${String(1 + Math.floor(rand() * 12)).padStart(2, '0')}-17 12:34:56.${Math.floor(rand() * 1e6)}+00`,
      String(BigInt(Math.floor(rand() * 2 ** 52)) * 1000n),
      String(rand() * 1e6),
      rand() < 0.5 ? 't' : 'f',
      rand() < 0.1 ? null : sentence,
      (rand() * 1e5).toFixed(2),
    ])
    parts.push(line)
    size += Buffer.byteLength(line)
  }
  return Buffer.from(parts.join(''), 'utf8')
}

const data = generate(targetMb * 1e6)
const chunks: Buffer[] = []
for (let i = 0; i < data.length; i += CHUNK) chunks.push(data.subarray(i, i + CHUNK))
const mb = data.length / 1e6

function run(convert: boolean): { seconds: number; rows: number } {
  const parser = new CopyTextParser({ fieldCount: encodings.length })
  let rows = 0
  let sink = 0
  const t0 = performance.now()
  for (const chunk of chunks) {
    const parsed = parser.push(chunk)
    rows += parsed.length
    if (convert) {
      for (const row of parsed) {
        for (let i = 0; i < row.length; i++) {
          const v = pgTextToCanonical(encodings[i] ?? 'text', row[i] ?? null)
          if (v === true) sink++
        }
      }
    }
  }
  parser.end()
  const seconds = (performance.now() - t0) / 1000
  if (sink < 0) console.log(sink)
  return { seconds, rows }
}

console.log(`${mb.toFixed(1)} MB of COPY text, ${chunks.length} chunks of ${CHUNK / 1024} KiB`)
for (const convert of [false, true]) {
  const label = convert ? 'parse + pgTextToCanonical' : 'parse'
  run(convert) // warm-up
  const best = Math.min(...Array.from({ length: 3 }, () => run(convert).seconds))
  const { rows } = run(convert)
  console.log(
    `${label}: ${(mb / best).toFixed(0)} MB/s (${rows} rows, best of 3: ${best.toFixed(3)} s)`,
  )
}
