// `dbsnap snapshot` of a MongoDB collection: documents/s, MB/s and repository size, against the
// driver's own sorted read (the floor) and `mongodump --archive --gzip` when a mongodump binary is
// at hand, then the peak RSS of a snapshot of a ~1 GB collection. Run:
// node bench/snapshot-mongo.ts [--docs 1000000] [--runs 2] [--memory-mb 1024] [--compression zstd:3]
// (mongodump: on PATH, or DBSNAP_BENCH_MONGODUMP=/path/to/mongodump; see bench/README.md)

import { existsSync, mkdirSync, statSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { BSON, Binary, Double, Int32, MongoClient, ObjectId, type Db, type Document } from 'mongodb'
import { removeRepository, snapshotPeakRss, snapshotSample } from './lib/dbsnap.ts'
import { requireFreeSpace } from './lib/disk.ts'
import { MiB, TMP, describeMachine, median, progress, round, saveResults } from './lib/results.ts'
import { run } from './lib/run.ts'
import { MONGO_URL } from './lib/services.ts'

const BENCH = 'snapshot-mongo'
const DATABASE = 'dbsnap_bench_mongo'
const MEMORY_DATABASE = 'dbsnap_bench_mongo_memory'
const COLLECTION = 'bench_docs'
const DUMP = `${TMP}/${BENCH}.archive.gz`
const REPO = `${TMP}/${BENCH}-repo`
const RSS_LIMIT_MiB = 256
const INSERT_BATCH = 5000

const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '2' },
    'memory-mb': { type: 'string', default: '1024' },
    compression: { type: 'string' },
  },
})
const docs = Number(values.docs)
const runs = Number(values.runs)
/** Collection size for the peak-RSS measurement; 0 skips it. */
const memoryMiB = Number(values['memory-mb'])
const compression = values.compression
const extra = compression === undefined ? [] : ['--compression', compression]

/** The URL of database `name` on the bench server (its credentials and options kept). */
function databaseUrl(name: string): string {
  const url = new URL(MONGO_URL)
  url.pathname = `/${name}`
  return url.href
}

/** A small deterministic PRNG (mulberry32): the same documents on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

const WORDS =
  'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega'.split(
    ' ',
  )

/**
 * A document like an application's: ObjectId `_id` (time-ordered, as drivers make them), strings,
 * Int32, Double, a Date, an array, a nested document, a small binary, and `padding` characters of
 * text to set the size.
 */
function makeDocument(i: number, next: () => number, padding: number): Document {
  const word = (): string => WORDS[Math.floor(next() * WORDS.length)]!
  const id = Buffer.alloc(12)
  id.writeUInt32BE(1_700_000_000 + Math.floor(i / 1000), 0)
  id.writeUInt32BE(i, 8)
  return {
    _id: new ObjectId(id),
    name: `${word()} ${word()}`,
    email: `user${i}@example.com`,
    age: new Int32(18 + Math.floor(next() * 70)),
    score: new Double(Math.round(next() * 1e6) / 100),
    active: next() < 0.8,
    createdAt: new Date(1_600_000_000_000 + Math.floor(next() * 1e11)),
    tags: Array.from({ length: 1 + Math.floor(next() * 4) }, word),
    address: {
      street: `${Math.floor(next() * 999)} ${word()} street`,
      city: word(),
      zip: String(10000 + (i % 90000)),
    },
    token: new Binary(Buffer.from(id.toString('hex') + id.toString('hex'), 'hex'), 0),
    notes: Array.from({ length: Math.ceil(padding / 7) }, word)
      .join(' ')
      .slice(0, padding),
  }
}

interface GeneratedCollection {
  documents: number
  /** BSON bytes of the documents as the driver sends them (FerretDB's collStats counts its own). */
  dataBytes: number
  /** collStats `size`: what the server says the collection takes. */
  serverBytes: number
  generateSeconds: number
}

async function generate(db: Db, count: number, padding: number): Promise<GeneratedCollection> {
  const started = performance.now()
  const next = random(42)
  const collection = db.collection(COLLECTION)
  let dataBytes = 0
  for (let i = 0; i < count; i += INSERT_BATCH) {
    const batch = Array.from({ length: Math.min(INSERT_BATCH, count - i) }, (_, j) =>
      makeDocument(i + j, next, padding),
    )
    for (const doc of batch) dataBytes += BSON.calculateObjectSize(doc)
    await collection.insertMany(batch, { ordered: false })
    if ((i / INSERT_BATCH) % 20 === 0)
      progress(`generated ${(i + batch.length).toLocaleString('en-US')} documents`)
  }
  const stats = (await db.command({ collStats: COLLECTION })) as { count: number; size: number }
  return {
    documents: stats.count,
    dataBytes,
    serverBytes: stats.size,
    generateSeconds: round((performance.now() - started) / 1000, 1),
  }
}

/** mongodump's path: DBSNAP_BENCH_MONGODUMP, else on PATH; null when there is none. */
async function findMongodump(): Promise<string | null> {
  const configured = process.env.DBSNAP_BENCH_MONGODUMP
  if (configured !== undefined) return existsSync(configured) ? configured : null
  return run('sh', ['-c', 'command -v mongodump'])
    .then((r) => r.stdout.trim() || null)
    .catch(() => null)
}

interface Sample {
  seconds: number
  bytes: number
  inProcessSeconds?: number
  canonicalBytes?: number
}

function dbsnapSample(url: string): Promise<Sample> {
  return snapshotSample(url, REPO, { extra })
}

/** The floor: the driver reading the collection in `_id` order as raw BSON, and dropping it. */
async function findSample(db: Db): Promise<Sample> {
  const started = performance.now()
  let bytes = 0
  const cursor = db
    .collection(COLLECTION)
    .find({}, { sort: { _id: 1 }, raw: true, batchSize: 1000 })
  for await (const doc of cursor as AsyncIterable<unknown>) bytes += (doc as Buffer).length
  return { seconds: (performance.now() - started) / 1000, bytes }
}

async function mongodumpSample(mongodump: string, url: string): Promise<Sample> {
  await rm(DUMP, { force: true })
  const { seconds } = await run(mongodump, [
    `--uri=${url}`,
    `--archive=${DUMP}`,
    '--gzip',
    '--quiet',
  ])
  const bytes = statSync(DUMP).size
  await rm(DUMP, { force: true })
  return { seconds, bytes }
}

/** Peak RSS of `dbsnap snapshot` of a collection of `memoryMiB`, as GNU time's %M (ru_maxrss). */
async function measureMemory(
  client: MongoClient,
): Promise<{ collection: GeneratedCollection; seconds: number; peakRssMiB: number }> {
  const db = client.db(MEMORY_DATABASE)
  await db.dropDatabase()
  try {
    // ~4 KiB documents: a quarter of a million for 1 GiB.
    const padding = 3800
    const collection = await generate(db, Math.ceil((memoryMiB * MiB) / (padding + 300)), padding)
    await removeRepository(REPO)
    const { run, peakRssMiB } = await snapshotPeakRss(databaseUrl(MEMORY_DATABASE), REPO, { extra })
    await removeRepository(REPO)
    return { collection, seconds: round(run.seconds, 1), peakRssMiB: round(peakRssMiB, 1) }
  } finally {
    await db.dropDatabase()
  }
}

async function main(): Promise<void> {
  const startedAt = new Date()
  mkdirSync(TMP, { recursive: true })
  requireFreeSpace([
    { what: 'dump + repository', path: TMP, bytes: docs * 1000 },
    { what: 'generated collections', path: '/', bytes: docs * 1500 + memoryMiB * MiB * 3 },
  ])
  const client = new MongoClient(MONGO_URL)
  await client.connect()
  try {
    const build = (await client.db('admin').command({ buildInfo: 1 })) as {
      version: string
      ferretdbVersion?: string
    }
    const mongodump = await findMongodump()
    const machine = {
      ...(await describeMachine()),
      mongo:
        build.ferretdbVersion === undefined
          ? `MongoDB ${build.version}`
          : `FerretDB ${build.ferretdbVersion} (MongoDB ${build.version} compatible)`,
      mongodump:
        mongodump === null ? null : (await run(mongodump, ['--version'])).stdout.split('\n')[0]!,
    }
    const db = client.db(DATABASE)
    await db.dropDatabase()
    let collection: GeneratedCollection
    const samples: { find: Sample[]; dbsnap: Sample[]; mongodump: Sample[] } = {
      find: [],
      dbsnap: [],
      mongodump: [],
    }
    try {
      collection = await generate(db, docs, 120)
      const url = databaseUrl(DATABASE)
      // Pass 0 warms the server's caches and every tool's files; passes 1..runs are timed.
      for (let pass = 0; pass <= runs; pass++) {
        const measured: [keyof typeof samples, () => Promise<Sample>][] = [
          ['find', () => findSample(db)],
          ['dbsnap', () => dbsnapSample(url)],
        ]
        if (mongodump !== null) measured.push(['mongodump', () => mongodumpSample(mongodump, url)])
        for (const [tool, measure] of measured) {
          const sample = await measure()
          progress(
            `${pass === 0 ? 'warm-up' : `run ${pass}/${runs}`} ${tool}: ${sample.seconds.toFixed(2)} s`,
          )
          if (pass > 0) samples[tool].push(sample)
        }
      }
    } finally {
      await db.dropDatabase()
    }
    const memory = memoryMiB > 0 ? await measureMemory(client) : null

    const seconds = median(samples.dbsnap.map((s) => s.seconds))
    const findSeconds = median(samples.find.map((s) => s.seconds))
    const dumpSeconds =
      samples.mongodump.length > 0 ? median(samples.mongodump.map((s) => s.seconds)) : null
    const repository = samples.dbsnap[0]?.bytes ?? NaN
    const dump = samples.mongodump[0]?.bytes ?? null
    const results = {
      collection,
      canonicalBytes: samples.dbsnap[0]?.canonicalBytes ?? NaN,
      medianSeconds: {
        dbsnap: round(seconds, 3),
        dbsnapInProcess: round(median(samples.dbsnap.map((s) => s.inProcessSeconds ?? NaN)), 3),
        driverFindFloor: round(findSeconds, 3),
        mongodumpArchiveGzip: dumpSeconds === null ? null : round(dumpSeconds, 3),
      },
      throughput: {
        documentsPerSecond: Math.round(collection.documents / seconds),
        bsonMiBps: round(collection.dataBytes / MiB / seconds, 1),
        canonicalMiBps: round((samples.dbsnap[0]?.canonicalBytes ?? NaN) / MiB / seconds, 1),
        driverFindFloorDocumentsPerSecond: Math.round(collection.documents / findSeconds),
      },
      snapshotToFindFloorTime: round(seconds / findSeconds, 3),
      bytes: { repository, mongodumpArchiveGzip: dump },
      ratios:
        dumpSeconds === null || dump === null
          ? null
          : {
              snapshotToMongodumpTime: round(seconds / dumpSeconds, 3),
              repositoryToMongodumpSize: round(repository / dump, 3),
            },
      memory,
      samples,
    }
    const summary = [
      `${BENCH}: ${collection.documents.toLocaleString('en-US')} documents, ${(collection.dataBytes / MiB).toFixed(0)} MiB of BSON on ${machine.mongo}, compression ${compression ?? 'default'}, median of ${runs}`,
      `  dbsnap snapshot ${seconds.toFixed(2)} s: ${results.throughput.documentsPerSecond.toLocaleString('en-US')} documents/s, ${results.throughput.bsonMiBps} MiB/s of BSON (${results.throughput.canonicalMiBps} MiB/s of canonical EJSON rows); repository ${(repository / MiB).toFixed(1)} MiB`,
      `  driver find floor (sorted, raw, discarded) ${findSeconds.toFixed(2)} s: snapshot/floor time ${results.snapshotToFindFloorTime}`,
      results.ratios === null
        ? '  mongodump: not measured (no mongodump binary; see bench/README.md)'
        : `  mongodump --archive --gzip ${dumpSeconds!.toFixed(2)} s, ${(dump! / MiB).toFixed(1)} MiB: snapshot/mongodump time ${results.ratios.snapshotToMongodumpTime}, repository/archive size ${results.ratios.repositoryToMongodumpSize}`,
      memory === null
        ? '  peak RSS: not measured (--memory-mb 0)'
        : `  peak RSS of a snapshot of ${(memory.collection.dataBytes / MiB).toFixed(0)} MiB (${memory.collection.documents.toLocaleString('en-US')} documents): ${memory.peakRssMiB} MiB (target < ${RSS_LIMIT_MiB}) in ${memory.seconds.toFixed(1)} s`,
    ]
    const params = { docs, runs, memoryMiB, compression: compression ?? 'default' }
    saveResults(BENCH, startedAt, { machine, params, results, summary })
  } finally {
    await client.close()
  }
}

await main()
