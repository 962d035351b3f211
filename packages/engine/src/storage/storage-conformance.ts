// The one test suite every Storage implementation passes (like restic's backend test suite):
// each implementation's test file wires it up with a factory and lists what it skips, and why.

import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isDbsnapError, type ErrorCode } from '../errors.js'
import { bytesSource, type ByteSource, type ObjectInfo, type Storage } from './storage.js'

export interface ConformanceSubject {
  /** A storage with no objects. */
  storage: Storage
  /** Removes whatever the test left behind; runs after `storage.close()`. */
  cleanup: () => Promise<void>
}

export interface ConformanceOptions {
  /** Cases not run, by name, each with the reason (shown in the test report). */
  skip?: Record<string, string>
  /** Per-case timeout in milliseconds (default: the project's). */
  timeoutMs?: number
  /** Size of the "multi-MiB" objects; S3 suites set it above their part size. Default 3 MiB. */
  largeObjectSize?: number
}

const KiB = 1024
const MiB = 1024 * KiB

/**
 * Registers the Storage conformance cases as a vitest `describe` block. `factory` is called
 * once per case, so cases never see each other's objects.
 *
 * @example
 * describeStorageConformance('MemoryStorage', async () => ({
 *   storage: new MemoryStorage(),
 *   cleanup: async () => {},
 * }))
 */
export function describeStorageConformance(
  name: string,
  factory: () => Promise<ConformanceSubject>,
  options: ConformanceOptions = {},
): void {
  const skip = options.skip ?? {}
  const large = options.largeObjectSize ?? 3 * MiB
  const known = new Set<string>()

  const test = (title: string, body: (storage: Storage) => Promise<void>): void => {
    known.add(title)
    const reason = skip[title]
    if (reason !== undefined) {
      it.skip(`${title} (skipped: ${reason})`, () => undefined)
      return
    }
    it(
      title,
      async () => {
        const { storage, cleanup } = await factory()
        try {
          await body(storage)
        } finally {
          await storage.close()
          await cleanup()
        }
      },
      options.timeoutMs,
    )
  }

  describe(`${name} (Storage conformance)`, () => {
    test('round-trips an empty object', async (storage) => {
      await storage.put('empty', bytesSource(new Uint8Array(0)))
      expect((await storage.get('empty')).byteLength).toBe(0)
      expect(await storage.stat('empty')).toMatchObject({ key: 'empty', size: 0 })
    })

    test('round-trips a 1-byte object', async (storage) => {
      await storage.put('one', bytesSource(Uint8Array.of(0xa5)))
      expect([...(await storage.get('one'))]).toEqual([0xa5])
    })

    test('round-trips a multi-MiB object streamed in many small pieces', async (storage) => {
      const source = patternSource(large + 3, 7, 16 * KiB)
      await storage.put('big/object', source)
      const got = await storage.get('big/object')
      expect(got.byteLength).toBe(source.size)
      expect(sha256(got)).toBe(source.sha256)
      expect((await storage.stat('big/object'))?.size).toBe(source.size)
    })

    test('round-trips keys made of every allowed character', async (storage) => {
      const keys = ['A-Z_a.z/0-9', '.hidden/file', 'x/-/_/y.z', 'deep/a/b/c/d/e/f/g']
      for (const key of keys) await storage.put(key, bytesSource(Buffer.from(key)))
      for (const key of keys) expect(Buffer.from(await storage.get(key)).toString()).toBe(key)
      expect((await keysOf(storage.list(''))).sort()).toEqual([...keys].sort())
    })

    test('overwrites an existing key', async (storage) => {
      await storage.put('config', bytesSource(Buffer.from('first version, longer')))
      await storage.put('config', bytesSource(Buffer.from('second')))
      expect(Buffer.from(await storage.get('config')).toString()).toBe('second')
      expect((await storage.stat('config'))?.size).toBe(6)
      expect(await keysOf(storage.list(''))).toEqual(['config'])
    })

    test('reads a range, shorter at the end and empty past it', async (storage) => {
      const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251)
      await storage.put('ranged', bytesSource(bytes))
      const range = (offset: number, length: number): Promise<Uint8Array> =>
        storage.get('ranged', { range: { offset, length } })
      expect([...(await range(0, 10))]).toEqual([...bytes.subarray(0, 10)])
      expect([...(await range(500, 3))]).toEqual([...bytes.subarray(500, 503)])
      expect([...(await range(990, 100))]).toEqual([...bytes.subarray(990)])
      expect((await range(1000, 5)).byteLength).toBe(0)
      expect((await range(5000, 5)).byteLength).toBe(0)
      expect((await range(5, 0)).byteLength).toBe(0)
      await expectCode(
        storage.get('missing', { range: { offset: 0, length: 1 } }),
        'STORAGE_NOT_FOUND',
      )
      await expectCode(
        storage.get('missing', { range: { offset: 0, length: 0 } }),
        'STORAGE_NOT_FOUND',
      )
      await expectCode(range(-1, 5), 'INVALID_ARGUMENT')
      await expectCode(range(0, 1.5), 'INVALID_ARGUMENT')
    })

    test('rejects a get of a missing key with STORAGE_NOT_FOUND', async (storage) => {
      await storage.put('present', bytesSource(Uint8Array.of(1)))
      await expectCode(storage.get('absent'), 'STORAGE_NOT_FOUND')
      await expectCode(storage.get('present/child'), 'STORAGE_NOT_FOUND')
    })

    test('stats an object: size and modification time, null when missing', async (storage) => {
      const before = Date.now()
      await storage.put('stat/me', bytesSource(new Uint8Array(1234)))
      const after = Date.now()
      const info = await storage.stat('stat/me')
      expect(info).toMatchObject({ key: 'stat/me', size: 1234 })
      // Servers keep whole seconds, and their clock is not ours: allow some slack.
      expect(info?.modified.getTime()).toBeGreaterThanOrEqual(before - 60_000)
      expect(info?.modified.getTime()).toBeLessThanOrEqual(after + 60_000)
      expect(await storage.stat('stat/missing')).toBeNull()
      expect(await storage.stat('stat')).toBeNull()
    })

    test('lists by prefix, each key once, with sizes', async (storage) => {
      const keys = ['a/1', 'a/2', 'a/b/3', 'ab/4', 'b/5', 'c']
      await Promise.all(keys.map((key, i) => storage.put(key, bytesSource(new Uint8Array(i)))))
      const all = await collect(storage.list(''))
      expect(all.map((o) => o.key).sort()).toEqual(keys)
      for (const object of all) expect(object.size).toBe(keys.indexOf(object.key))
      expect((await keysOf(storage.list('a/'))).sort()).toEqual(['a/1', 'a/2', 'a/b/3'])
      expect((await keysOf(storage.list('a'))).sort()).toEqual(['a/1', 'a/2', 'a/b/3', 'ab/4'])
      expect((await keysOf(storage.list('a/b'))).sort()).toEqual(['a/b/3'])
      expect(await keysOf(storage.list('c'))).toEqual(['c'])
      expect(await keysOf(storage.list('nothing/'))).toEqual([])
      expect(await keysOf(storage.list('c/'))).toEqual([])
    })

    test('lists more than 1000 keys (pagination), each once', async (storage) => {
      const count = 1100
      const keys = Array.from({ length: count }, (_, i) => `many/${String(i).padStart(5, '0')}`)
      await inParallel(keys, 32, (key) => storage.put(key, bytesSource(Buffer.from(key))))
      await storage.put('other/x', bytesSource(Uint8Array.of(1)))
      const listed = await keysOf(storage.list('many/'))
      expect(listed.length).toBe(count)
      expect(new Set(listed)).toEqual(new Set(keys))
    })

    test('lists nothing in an empty storage', async (storage) => {
      expect(await keysOf(storage.list(''))).toEqual([])
      expect(await keysOf(storage.list('chunks/'))).toEqual([])
    })

    test('deletes idempotently', async (storage) => {
      await storage.put('gone', bytesSource(Uint8Array.of(1, 2, 3)))
      await storage.put('kept', bytesSource(Uint8Array.of(4)))
      await storage.delete('gone')
      expect(await storage.stat('gone')).toBeNull()
      await expectCode(storage.get('gone'), 'STORAGE_NOT_FOUND')
      await storage.delete('gone')
      await storage.delete('never/existed')
      expect(await keysOf(storage.list(''))).toEqual(['kept'])
    })

    test('rejects invalid keys and prefixes with INVALID_ARGUMENT before any I/O', async (storage) => {
      const badKeys = [
        '',
        '/abs',
        'trailing/',
        'a//b',
        '.',
        '..',
        'a/./b',
        'a/../b',
        '../up',
        'sp ace',
        'back\\slash',
        'ünï',
        'q?',
        'tmp',
        'tmp/x',
        'x'.repeat(1025),
      ]
      const source = countingSource(Uint8Array.of(1))
      for (const key of badKeys) {
        await expectCode(storage.get(key), 'INVALID_ARGUMENT')
        await expectCode(storage.put(key, source), 'INVALID_ARGUMENT')
        await expectCode(storage.stat(key), 'INVALID_ARGUMENT')
        await expectCode(storage.delete(key), 'INVALID_ARGUMENT')
      }
      expect(source.opens).toBe(0)
      for (const prefix of ['/a', 'a//', '../', 'a/../b', 'sp ace', '.\\x']) {
        await expectCode(collect(storage.list(prefix)), 'INVALID_ARGUMENT')
      }
      expect(await keysOf(storage.list(''))).toEqual([])
    })

    test('rejects calls with an aborted signal with ABORTED', async (storage) => {
      await storage.put('here', bytesSource(Uint8Array.of(1)))
      const signal = AbortSignal.abort(new Error('stop'))
      const source = countingSource(Uint8Array.of(1))
      await expectCode(storage.get('here', { signal }), 'ABORTED')
      await expectCode(storage.put('new', source, { signal }), 'ABORTED')
      await expectCode(storage.stat('here', { signal }), 'ABORTED')
      await expectCode(storage.delete('here', { signal }), 'ABORTED')
      await expectCode(collect(storage.list('', { signal })), 'ABORTED')
      expect(await storage.stat('new')).toBeNull()
      expect(await storage.stat('here')).not.toBeNull()
    })

    test('aborts a put midway with ABORTED and stores nothing', async (storage) => {
      const controller = new AbortController()
      const piece = new Uint8Array(64 * KiB)
      const pieces = Math.ceil(large / piece.byteLength) + 1
      const source: ByteSource = {
        size: pieces * piece.byteLength,
        async *open() {
          for (let i = 0; i < pieces; i += 1) {
            if (i === 3) controller.abort(new Error('user cancelled'))
            await Promise.resolve()
            yield piece
          }
        },
      }
      await expectCode(storage.put('aborted', source, { signal: controller.signal }), 'ABORTED')
      expect(await storage.stat('aborted')).toBeNull()
      expect(await keysOf(storage.list(''))).toEqual([])
    })

    test('leaves no object when the source throws midway (atomicity)', async (storage) => {
      await storage.put('existing', bytesSource(Buffer.from('old content')))
      for (const key of ['fresh', 'existing']) {
        const failure = new Error('source broke')
        const whole = patternSource(large + 1, 3, 64 * KiB)
        const source: ByteSource = {
          size: whole.size,
          async *open() {
            let sent = 0
            for await (const piece of whole.open()) {
              if (sent > (whole.size * 3) / 4) throw failure
              sent += piece.byteLength
              yield piece
            }
          },
        }
        await expect(storage.put(key, source)).rejects.toBe(failure)
      }
      expect(await storage.stat('fresh')).toBeNull()
      expect(Buffer.from(await storage.get('existing')).toString()).toBe('old content')
      expect(await keysOf(storage.list(''))).toEqual(['existing'])
    })

    test('refuses a source of the wrong size or SHA-256, storing nothing', async (storage) => {
      const bytes = Buffer.from('twelve bytes')
      const lying = (size: number): ByteSource => ({
        size,
        open: () => bytesSource(bytes).open(),
      })
      await expectCode(storage.put('long', lying(11)), 'INVALID_ARGUMENT')
      await expectCode(storage.put('short', lying(13)), 'INVALID_ARGUMENT')
      const wrong = createHash('sha256').update('other').digest()
      await expectCode(
        storage.put('corrupt', bytesSource(bytes), { sha256: wrong }),
        'DATA_CORRUPT',
      )
      expect(await keysOf(storage.list(''))).toEqual([])
      const right = createHash('sha256').update(bytes).digest()
      await storage.put('checked', bytesSource(bytes), { sha256: right })
      expect(Buffer.from(await storage.get('checked')).toString()).toBe('twelve bytes')
      const big = patternSource(large + 5, 11, 32 * KiB)
      await storage.put('checked-big', big, { sha256: Buffer.from(big.sha256, 'hex') })
      await expectCode(storage.put('corrupt-big', big, { sha256: wrong }), 'DATA_CORRUPT')
      expect(await storage.stat('corrupt-big')).toBeNull()
    })

    test('keeps an unfinished put invisible', async (storage) => {
      let release!: () => void
      let started!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      const running = new Promise<void>((resolve) => (started = resolve))
      const source: ByteSource = {
        size: 2,
        async *open() {
          yield Uint8Array.of(1)
          started()
          await released
          yield Uint8Array.of(2)
        },
      }
      const put = storage.put('slow', source)
      await running
      expect(await storage.stat('slow')).toBeNull()
      expect(await keysOf(storage.list(''))).toEqual([])
      release()
      await put
      expect([...(await storage.get('slow'))]).toEqual([1, 2])
    })

    test('runs concurrent puts of different keys', async (storage) => {
      const keys = Array.from({ length: 24 }, (_, i) => `concurrent/${i}`)
      await Promise.all(
        keys.map((key, i) => storage.put(key, patternSource(10 * KiB + i, i, 1000))),
      )
      for (const [i, key] of keys.entries()) {
        expect(sha256(await storage.get(key))).toBe(patternSource(10 * KiB + i, i, 1000).sha256)
      }
    })

    test('opens the byte source afresh for each put, never reusing a spent stream', async (storage) => {
      const source = countingSource(Buffer.from('same bytes every time'))
      await storage.put('first', source)
      await storage.put('second', source)
      await storage.put('first', source)
      expect(source.opens).toBeGreaterThanOrEqual(3)
      for (const key of ['first', 'second']) {
        expect(Buffer.from(await storage.get(key)).toString()).toBe('same bytes every time')
      }
    })
  })

  for (const title of Object.keys(skip)) {
    if (!known.has(title)) {
      throw new Error(`describeStorageConformance(${name}): no case named "${title}" to skip`)
    }
  }
}

/** A source of `size` pseudo-random bytes from `seed`, generated piece by piece on each open. */
function patternSource(
  size: number,
  seed: number,
  pieceSize: number,
): ByteSource & { sha256: string } {
  const hash = createHash('sha256')
  for (const piece of patternPieces(size, seed, pieceSize)) hash.update(piece)
  return {
    size,
    sha256: hash.digest('hex'),
    async *open() {
      for (const piece of patternPieces(size, seed, pieceSize)) {
        await Promise.resolve()
        yield piece
      }
    },
  }
}

function* patternPieces(size: number, seed: number, pieceSize: number): Generator<Uint8Array> {
  let state = (seed * 2654435761 + 1) >>> 0 || 1
  for (let at = 0; at < size; at += pieceSize) {
    const piece = new Uint8Array(Math.min(pieceSize, size - at))
    for (let i = 0; i < piece.length; i += 1) {
      state ^= state << 13
      state ^= state >>> 17
      state ^= state << 5
      state >>>= 0
      piece[i] = state & 0xff
    }
    yield piece
  }
}

/** A source over `bytes` that counts its opens; every open is a new single-use generator. */
function countingSource(bytes: Uint8Array): ByteSource & { opens: number } {
  const source = {
    size: bytes.byteLength,
    opens: 0,
    open: () => {
      source.opens += 1
      return bytesSource(bytes).open()
    },
  }
  return source
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function collect(objects: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = []
  for await (const object of objects) out.push(object)
  return out
}

async function keysOf(objects: AsyncIterable<ObjectInfo>): Promise<string[]> {
  return (await collect(objects)).map((o) => o.key)
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await promise.then(
    () => new Error(`expected a rejection with ${code}, got success`),
    (e: unknown) => e,
  )
  expect(isDbsnapError(err) ? err.code : err).toBe(code)
}

async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T
      next += 1
      await run(item)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}
