// Every codec and level over the same sample of real snapshot chunks: ratio, compress and
// decompress MB/s, one thread (node:zlib, sync). Run: node bench/compression.ts [--sample-mb 64]

import { mkdirSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import zlib from 'node:zlib'
import { Repository, openStorage, rowsToColumnar } from '@dbsnap/engine'
import { removeRepository, snapshot } from './lib/dbsnap.ts'
import { generateTable } from './lib/generate.ts'
import { createDatabase, dropDatabase } from './lib/postgres.ts'
import { MiB, TMP, describeMachine, progress, round, saveResults } from './lib/results.ts'

const BENCH = 'compression'
const DATABASE = 'dbsnap_bench_compression'
const TABLE = 'bench_rows'
const REPO = `${TMP}/${BENCH}-repo`
/**
 * Timed passes: up to `passes`, and no more once they add up to `seconds`; the fastest counts
 * (noise only ever slows CPU-bound work down). Decompressing is fast, so it gets more passes.
 */
const COMPRESS_PASSES = { passes: 3, seconds: 15 }
const DECOMPRESS_PASSES = { passes: 10, seconds: 5 }

const { values } = parseArgs({ options: { 'sample-mb': { type: 'string', default: '64' } } })
const sampleBytes = Number(values['sample-mb']) * MiB

type Codec = { name: 'none' | 'zstd' | 'gzip' | 'deflate'; level: number }

const CODECS: Codec[] = [
  ...[1, 3, 6, 9, 12, 19].map((level) => ({ name: 'zstd' as const, level })),
  ...[1, 6, 9].map((level) => ({ name: 'gzip' as const, level })),
  ...[1, 6, 9].map((level) => ({ name: 'deflate' as const, level })),
  { name: 'none', level: 0 },
]

/** The codec as the engine runs it (codec.ts), synchronously, so one thread does all the work. */
function compressor(codec: Codec): (raw: Buffer) => Buffer {
  const { ZSTD_c_compressionLevel, ZSTD_c_contentSizeFlag } = zlib.constants
  switch (codec.name) {
    case 'none':
      return (raw) => raw
    case 'zstd':
      return (raw) =>
        zlib.zstdCompressSync(raw, {
          params: { [ZSTD_c_compressionLevel]: codec.level, [ZSTD_c_contentSizeFlag]: 1 },
        })
    case 'gzip':
      return (raw) => zlib.gzipSync(raw, { level: codec.level })
    case 'deflate':
      return (raw) => zlib.deflateRawSync(raw, { level: codec.level })
  }
}

function decompressor(codec: Codec): (stored: Buffer) => Buffer {
  switch (codec.name) {
    case 'none':
      return (stored) => stored
    case 'zstd':
      return (stored) => zlib.zstdDecompressSync(stored)
    case 'gzip':
      return (stored) => zlib.gunzipSync(stored)
    case 'deflate':
      return (stored) => zlib.inflateRawSync(stored)
  }
}

/** Snapshots a generated table and reads its chunks' contents back, up to the sample size. */
async function sampleChunks(): Promise<Buffer[]> {
  const url = await createDatabase(DATABASE)
  try {
    await generateTable(url, TABLE, { targetBytes: sampleBytes * 1.1 })
    await removeRepository(REPO)
    await snapshot(url, REPO)
  } finally {
    await dropDatabase(DATABASE)
  }
  const repository = await Repository.open(await openStorage(REPO))
  try {
    const [stored] = await repository.listSnapshots()
    const chunks: Buffer[] = []
    let bytes = 0
    for (const table of stored?.manifest.tables ?? []) {
      for (const entry of await repository.readIndex(table.index)) {
        if (bytes >= sampleBytes) return chunks
        const content = await repository.readObject(entry.id, { kind: 'data' })
        // What the engine compresses: the chunk in its columnar layout (decision 0007).
        chunks.push(rowsToColumnar(content, entry.rows, table.columns.length))
        bytes += content.byteLength
      }
    }
    return chunks
  } finally {
    await repository.close()
    await removeRepository(REPO)
  }
}

/** Seconds of the fastest of the passes of `work` over every chunk, after an untimed one. */
function fastest(
  work: (chunk: Buffer) => Buffer,
  chunks: Buffer[],
  limits: typeof COMPRESS_PASSES,
): number {
  chunks.forEach(work)
  const times: number[] = []
  while (times.length < limits.passes && times.reduce((a, b) => a + b, 0) < limits.seconds) {
    const started = performance.now()
    chunks.forEach(work)
    times.push((performance.now() - started) / 1000)
  }
  return Math.min(...times)
}

function measure(codec: Codec, chunks: Buffer[], raw: number) {
  const [pack, unpack] = [compressor(codec), decompressor(codec)]
  const packed = chunks.map(pack)
  if (!packed.every((stored, i) => unpack(stored).equals(chunks[i]!))) {
    throw new Error(`${codec.name}:${codec.level} does not round-trip`)
  }
  const stored = packed.reduce((sum, b) => sum + b.byteLength, 0)
  const timed = codec.name !== 'none'
  return {
    codec: codec.name === 'none' ? 'none' : `${codec.name}:${codec.level}`,
    storedBytes: stored,
    ratio: round(raw / stored, 2),
    /** null for `none`, which copies nothing. */
    compressMiBps: timed ? round(raw / MiB / fastest(pack, chunks, COMPRESS_PASSES), 1) : null,
    decompressMiBps: timed
      ? round(raw / MiB / fastest(unpack, packed, DECOMPRESS_PASSES), 1)
      : null,
  }
}

const speed = (mibps: number | null): string => (mibps === null ? '—' : mibps.toFixed(0))

function summarize(rows: ReturnType<typeof measure>[], raw: number, chunks: number): string[] {
  return [
    `${BENCH}: ${(raw / MiB).toFixed(1)} MiB in ${chunks} chunks, one thread, fastest of up to ${COMPRESS_PASSES.passes} (compress) / ${DECOMPRESS_PASSES.passes} (decompress) passes`,
    '| codec | ratio | stored % | compress MiB/s | decompress MiB/s |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.codec} | ${r.ratio.toFixed(2)} | ${((100 * r.storedBytes) / raw).toFixed(1)} | ${speed(r.compressMiBps)} | ${speed(r.decompressMiBps)} |`,
    ),
  ]
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  const machine = await describeMachine()
  const chunks = await sampleChunks()
  const raw = chunks.reduce((sum, c) => sum + c.byteLength, 0)
  const rows = CODECS.map((codec) => {
    const row = measure(codec, chunks, raw)
    progress(
      `${row.codec}: ratio ${row.ratio}, ${speed(row.compressMiBps)} / ${speed(row.decompressMiBps)} MiB/s`,
    )
    return row
  })
  saveResults(BENCH, startedAt, {
    machine,
    params: { sampleBytes: raw, chunks: chunks.length, COMPRESS_PASSES, DECOMPRESS_PASSES },
    results: { codecs: rows },
    summary: summarize(rows, raw, chunks.length),
  })
}

await main()
