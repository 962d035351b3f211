// The repository's read paths against objects someone else wrote: a chunk replaced by another
// valid object (another chunk's frame, or other rows freshly compressed) must never be read.

import { describe, expect, it } from 'vitest'
import { MemoryStorage } from '../storage/index.js'
import { bytesSource } from '../storage/storage.js'
import { rowsToColumnar } from './columnar.js'
import { makeDelta } from './delta.js'
import { contentId, encodeObject } from './object-format.js'
import { Repository } from './repository.js'
import { objectKey } from './layout.js'

const zstd = { name: 'zstd', level: 3 } as const
const lines = (from: number, to: number, tag = 'v'): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => `[${from + i},"${tag}${from + i}"]`)
const content = (rows: string[]): Buffer => Buffer.from(rows.map((l) => `${l}\n`).join(''))

/** Stores `rows` as a columnar chunk, as a snapshot does; returns its id. */
async function putColumnar(repository: Repository, rows: string[]): Promise<string> {
  const bytes = content(rows)
  const id = contentId(bytes)
  const payload = rowsToColumnar(bytes, rows.length, 2)
  await repository.putEncoded(id, encodeObject('data', zstd, payload, { columnar: true }))
  return id
}

/** Stores `next` as a delta over the chunk `baseId` holding `base`; returns its id. */
async function putDelta(
  repository: Repository,
  baseId: string,
  base: string[],
  next: string[],
): Promise<string> {
  const keyed = (rows: string[]): { line: string; key: string }[] =>
    rows.map((line) => ({ line, key: line.slice(0, line.indexOf(',')) }))
  const script = makeDelta(keyed(base), keyed(next), Infinity)!
  const id = contentId(content(next))
  const encoded = encodeObject('data', zstd, Buffer.from(script), {
    base: { id: baseId, depth: 0 },
  })
  await repository.putEncoded(id, encoded)
  return id
}

/** The storage under each repository a test opens, to tamper with what it holds. */
const storages = new WeakMap<Repository, MemoryStorage>()

async function openRepository(): Promise<Repository> {
  const storage = new MemoryStorage()
  const repository = await Repository.open(storage, { create: true })
  storages.set(repository, storage)
  return repository
}

function storageOf(repository: Repository): MemoryStorage {
  return storages.get(repository)!
}

async function replace(repository: Repository, id: string, bytes: Uint8Array): Promise<void> {
  await storageOf(repository).put(objectKey(id), bytesSource(bytes))
}

const corrupt = (id: string): unknown =>
  expect.objectContaining({ code: 'DATA_CORRUPT', details: { object: objectKey(id) } })

describe('Repository reads check every chunk against its id', () => {
  const setup = async (): Promise<{
    repository: Repository
    a: string
    b: string
    stored: (id: string) => Promise<Uint8Array>
  }> => {
    const repository = await openRepository()
    const a = await putColumnar(repository, lines(1, 100))
    const b = await putColumnar(repository, lines(101, 200))
    const stored = (id: string): Promise<Uint8Array> => storageOf(repository).get(objectKey(id))
    return { repository, a, b, stored }
  }

  const readers = (repository: Repository, id: string): [string, () => Promise<unknown>][] => [
    ['readObject', () => repository.readObject(id, { kind: 'data' })],
    ['readLines', () => repository.readLines(id)],
    ['readColumns', () => repository.readColumns(id, 2)],
  ]

  it('rejects a chunk replaced by another chunk (a valid frame with a checksum)', async () => {
    const { repository, a, b, stored } = await setup()
    await replace(repository, a, await stored(b))
    for (const [name, read] of readers(repository, a)) {
      await expect(read(), name).rejects.toEqual(corrupt(a))
    }
  })

  it('rejects a chunk replaced by other rows freshly compressed', async () => {
    const { repository, a } = await setup()
    const other = lines(1, 100, 'forged')
    const payload = rowsToColumnar(content(other), other.length, 2)
    await replace(repository, a, encodeObject('data', zstd, payload, { columnar: true }))
    for (const [name, read] of readers(repository, a)) {
      await expect(read(), name).rejects.toEqual(corrupt(a))
    }
    const row = encodeObject('data', zstd, content(other))
    await replace(repository, a, row)
    for (const [name, read] of readers(repository, a)) {
      await expect(read(), name).rejects.toEqual(corrupt(a))
    }
  })

  it('rejects a delta whose script was replaced, and a delta over a replaced base', async () => {
    const { repository, a, b, stored } = await setup()
    const base = lines(1, 100)
    const next = base.map((line, i) => (i === 50 ? '[51,"changed"]' : line))
    const delta = await putDelta(repository, a, base, next)
    expect(await repository.readLines(delta)).toEqual(next)
    const proven = await repository.readDelta(delta)
    expect(proven?.baseRows).toBe(base.length)
    expect(proven?.ops.find((step) => step.op === '-')?.lines).toEqual([base[50]])

    // Another valid script over the same base, stored under the delta's id.
    const forged = base.map((line, i) => (i === 10 ? '[11,"forged"]' : line))
    const keyed = (rows: string[]): { line: string; key: string }[] =>
      rows.map((line) => ({ line, key: line.slice(0, line.indexOf(',')) }))
    const script = makeDelta(keyed(base), keyed(forged), Infinity)!
    const original = await stored(delta)
    await replace(
      repository,
      delta,
      encodeObject('data', zstd, Buffer.from(script), { base: { id: a, depth: 0 } }),
    )
    for (const [name, read] of [
      ...readers(repository, delta),
      ['readDelta', () => repository.readDelta(delta)] as const,
    ]) {
      await expect(read(), name).rejects.toEqual(corrupt(delta))
    }

    // The script is genuine, its base is not.
    await replace(repository, delta, original)
    await replace(repository, a, await stored(b))
    for (const [name, read] of [
      ...readers(repository, delta),
      ['readDelta', () => repository.readDelta(delta)] as const,
    ]) {
      await expect(read(), name).rejects.toEqual(corrupt(a))
    }
  })

  it('rejects a delta stored under its own base id instead of following it forever', async () => {
    const { repository, a, stored } = await setup()
    const base = lines(1, 100)
    const next = base.map((line, i) => (i === 50 ? '[51,"changed"]' : line))
    const delta = await putDelta(repository, a, base, next)
    // The next snapshot's version of the chunk, swapped in: its base is the chunk itself.
    await replace(repository, a, await stored(delta))
    for (const [name, read] of readers(repository, a)) {
      await expect(read(), name).rejects.toEqual(corrupt(a))
    }
  })
})

describe('Repository proves a delta by the hash its index entry records (decision 0015)', () => {
  const setup = async (): Promise<{
    repository: Repository
    a: string
    delta: string
    script: string
  }> => {
    const repository = await openRepository()
    const base = lines(1, 100)
    const a = await putColumnar(repository, base)
    const next = base.map((line, i) => (i === 50 ? '[51,"changed"]' : line))
    const delta = await putDelta(repository, a, base, next)
    const script = contentId(await storageOf(repository).get(objectKey(delta)))
    return { repository, a, delta, script }
  }

  it('reads the script alone, its base gone', async () => {
    const { repository, a, delta, script } = await setup()
    await storageOf(repository).delete(objectKey(a))
    const proven = await repository.readDelta(delta, { proof: { script, baseRows: 100 } })
    expect(proven).toMatchObject({ base: { id: a }, baseRows: 100, baseRead: false })
    expect(proven?.ops.find((step) => step.op === '-')?.lines).toEqual(['[51,"v51"]'])
    await expect(repository.readDelta(delta)).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' })
  })

  it('rejects a script that is not the one its entry hashes, or that misses base rows', async () => {
    const { repository, a, delta, script } = await setup()
    const forged = lines(1, 100).map((line, i) => (i === 10 ? '[11,"forged"]' : line))
    const keyed = (rows: string[]): { line: string; key: string }[] =>
      rows.map((line) => ({ line, key: line.slice(0, line.indexOf(',')) }))
    const other = makeDelta(keyed(lines(1, 100)), keyed(forged), Infinity)!
    const original = await storageOf(repository).get(objectKey(delta))
    await replace(
      repository,
      delta,
      encodeObject('data', zstd, Buffer.from(other), { base: { id: a, depth: 0 } }),
    )
    await expect(repository.readDelta(delta, { proof: { script, baseRows: 100 } })).rejects.toEqual(
      corrupt(delta),
    )
    await replace(repository, delta, original)
    await expect(repository.readDelta(delta, { proof: { script, baseRows: 101 } })).rejects.toEqual(
      corrupt(delta),
    )
  })

  it('rejects an index whose entry hash was edited: the index no longer hashes to its id', async () => {
    const { repository, delta, script } = await setup()
    const entry = { id: delta, rows: 100, bytes: 1000, first: [1], last: [100], script }
    const index = await repository.putObject('index', Buffer.from(`${JSON.stringify(entry)}\n`))
    expect(await repository.readIndex(index.id)).toEqual([entry])
    const edited = { ...entry, script: contentId(Buffer.from('another script')) }
    await replace(
      repository,
      index.id,
      encodeObject('index', zstd, Buffer.from(`${JSON.stringify(edited)}\n`)),
    )
    await expect(repository.readIndex(index.id)).rejects.toEqual(corrupt(index.id))
  })
})

describe('Repository reads bound decompression by the index entry', () => {
  /** 64 MiB of zeros: a few KiB compressed, a valid frame whose header says 64 MiB. */
  const bomb = (): Uint8Array => encodeObject('data', zstd, Buffer.alloc(64 * 1024 * 1024))
  const refused: unknown = expect.objectContaining({
    code: 'DATA_CORRUPT',
    message: expect.stringMatching(/declares a payload of 67108864 bytes/) as unknown,
  })

  it('refuses a frame declaring far more than the chunk holds before decompressing it', async () => {
    const repository = await openRepository()
    const rows = lines(1, 100)
    const id = await putColumnar(repository, rows)
    const bytes = content(rows).byteLength
    await replace(repository, id, bomb())
    await expect(repository.readLines(id, { bytes })).rejects.toEqual(refused)
    await expect(repository.readColumns(id, 2, { bytes })).rejects.toEqual(refused)
    await expect(repository.readObject(id, { kind: 'data', bytes })).rejects.toEqual(refused)
  })

  it('bounds the base of a delta too', async () => {
    const repository = await openRepository()
    const base = lines(1, 100)
    const a = await putColumnar(repository, base)
    const next = base.map((line, i) => (i === 50 ? '[51,"changed"]' : line))
    const delta = await putDelta(repository, a, base, next)
    await replace(repository, a, bomb())
    const bytes = content(next).byteLength
    await expect(repository.readLines(delta, { bytes })).rejects.toEqual(refused)
    await expect(repository.readDelta(delta, { bytes })).rejects.toEqual(refused)
  })
})

describe('Repository.open validates config', () => {
  const good = {
    format: 'dbsnap-repository',
    version: 1,
    id: '0123456789abcdef0123456789abcdef',
    createdAt: '2026-11-24T12:00:00.000Z',
    chunking: { targetBytes: 1048576, minBytes: 262144, maxBytes: 4194304, hash: 'fnv1a32-fmix32' },
    compression: 'zstd:3',
    encryption: null,
  }
  const openWith = async (config: unknown): Promise<Repository> => {
    const storage = new MemoryStorage()
    await storage.put('config', bytesSource(Buffer.from(JSON.stringify(config))))
    return Repository.open(storage)
  }
  const chunking = (change: object): object => ({
    ...good,
    chunking: { ...good.chunking, ...change },
  })

  it('opens a good one', async () => {
    expect((await openWith(good)).config).toEqual(good)
  })

  it.each([
    ['a negative minBytes', chunking({ minBytes: -1 })],
    ['a huge maxBytes', chunking({ maxBytes: 2 ** 40 })],
    ['a fractional targetBytes', chunking({ targetBytes: 1.5 })],
    ['a zero maxBytes', chunking({ minBytes: 0, targetBytes: 0, maxBytes: 0 })],
    ['minBytes above maxBytes', chunking({ minBytes: 8388608 })],
    ['a string for a size', chunking({ targetBytes: '1048576' })],
    ['an unknown hash', chunking({ hash: 'crc32' })],
    ['an unknown codec', { ...good, compression: 'lz4' }],
    ['a codec level out of range', { ...good, compression: 'zstd:99' }],
    ['version 0', { ...good, version: 0 }],
    ['no chunking', { ...good, chunking: undefined }],
    ['an array', [good]],
  ])('refuses %s with REPOSITORY_INVALID', async (_name, config) => {
    await expect(openWith(config)).rejects.toMatchObject({ code: 'REPOSITORY_INVALID' })
  })

  it('says which value is wrong, and to upgrade for a newer version', async () => {
    await expect(openWith(chunking({ maxBytes: 2 ** 40 }))).rejects.toThrow(/chunking\.maxBytes/)
    await expect(openWith({ ...good, version: 2 })).rejects.toThrow(/upgrade DBSnap/)
  })
})

describe('Repository owns its storage', () => {
  it('names its location and closes its storage', async () => {
    const storage = new MemoryStorage()
    let closed = 0
    storage.close = async () => {
      closed++
      await MemoryStorage.prototype.close.call(storage)
    }
    const repository = await Repository.open(storage, { create: true })
    expect(repository.location).toBe(storage.location)
    await repository.close()
    expect(closed).toBe(1)
  })

  it('takes locks under locks/: shared ones together, an exclusive one alone', async () => {
    const storage = new MemoryStorage()
    const repository = await Repository.open(storage, { create: true })
    const shared = await repository.lock('shared', 'snapshot')
    const another = await repository.lock('shared', 'verify')
    expect(shared.key).toMatch(/^locks\//)
    await expect(repository.lock('exclusive', 'prune')).rejects.toMatchObject({
      code: 'REPOSITORY_LOCKED',
    })
    await shared.release()
    await another.release()
    const exclusive = await repository.lock('exclusive', 'prune')
    await expect(repository.lock('shared', 'snapshot')).rejects.toMatchObject({
      code: 'REPOSITORY_LOCKED',
    })
    await exclusive.release()
  })

  it('says which blocks saved diffs list, and refuses to guess when one is malformed', async () => {
    const storage = new MemoryStorage()
    const repository = await Repository.open(storage, { create: true })
    const block = await repository.putDiffBlock(Buffer.from('{"change":"added"}\n'))
    const orphan = await repository.putDiffBlock(Buffer.from('{"change":"removed"}\n'))
    const saved = await repository.putSavedDiff(
      Buffer.from(JSON.stringify({ blocks: [{ id: block }] })),
    )
    expect(await repository.listSavedDiffIds()).toEqual([saved])
    expect([...(await repository.referencedDiffBlocks())]).toEqual([block])
    const listed: string[] = []
    for await (const info of repository.listDiffBlocks()) listed.push(info.id)
    expect(listed.sort()).toEqual([block, orphan].sort())
    await repository.putSavedDiff(Buffer.from('{"no":"blocks"}'))
    await expect(repository.referencedDiffBlocks()).rejects.toMatchObject({ code: 'DATA_CORRUPT' })
  })
})
