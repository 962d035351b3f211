import { execFileSync, spawn } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isDbsnapError, type DbsnapError } from '../../errors.js'
import { FaultyStorage } from '../faulty/faulty-storage.js'
import { describeStorageConformance } from '../storage-conformance.js'
import { bytesSource, type ByteSource } from '../storage.js'
import { FsStorage } from './fs-storage.js'

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'dbsnap-fs-storage-'))
}

describeStorageConformance('FsStorage', async () => {
  const dir = await tempDir()
  return {
    storage: await FsStorage.open(dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})

/** The error code a promise rejects with (or the non-DbsnapError itself). */
async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (err: unknown) => (isDbsnapError(err) ? err.code : err),
  )
}

async function tmpFiles(root: string): Promise<string[]> {
  return readdir(join(root, 'tmp')).catch(() => [])
}

describe('FsStorage', () => {
  let root: string

  beforeEach(async () => {
    root = await tempDir()
  })

  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('lays objects out as files under the root and never lists tmp/', async () => {
    const storage = await FsStorage.open(root)
    await storage.put('chunks/ab/abcdef', bytesSource(Buffer.from('chunk')))
    await writeFile(join(root, 'tmp', 'left-by-a-crash.tmp'), 'partial')
    await writeFile(join(root, 'not a valid key'), 'foreign file')
    expect(await readdir(join(root, 'chunks', 'ab'))).toEqual(['abcdef'])
    const keys: string[] = []
    for await (const object of storage.list('')) keys.push(object.key)
    expect(keys).toEqual(['chunks/ab/abcdef'])
    for await (const object of storage.list('tmp/')) keys.push(object.key)
    expect(keys).toEqual(['chunks/ab/abcdef'])
  })

  it('puts into directories that exist, are missing, or were removed meanwhile', async () => {
    const storage = await FsStorage.open(root)
    await storage.put('chunks/ab/one', bytesSource(Buffer.from('1')))
    await storage.put('chunks/ab/two', bytesSource(Buffer.from('2')))
    await storage.put('snapshots/deep/er/three', bytesSource(Buffer.from('3')))
    // Another process (prune, a user) removed a directory this one has put into before.
    await rm(join(root, 'chunks'), { recursive: true })
    await storage.put('chunks/ab/four', bytesSource(Buffer.from('4')))
    const keys: string[] = []
    for await (const object of storage.list('')) keys.push(object.key)
    expect(keys.sort()).toEqual(['chunks/ab/four', 'snapshots/deep/er/three'])
    expect(Buffer.from(await storage.get('chunks/ab/four')).toString()).toBe('4')
    expect(await tmpFiles(root)).toEqual([])
  })

  it('streams into a temporary file that only a completed put renames into place', async () => {
    const storage = await FsStorage.open(root)
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    let wrote!: () => void
    const halfway = new Promise<void>((resolve) => (wrote = resolve))
    const source: ByteSource = {
      size: 2 * 65536,
      async *open() {
        yield new Uint8Array(65536)
        wrote()
        await released
        yield new Uint8Array(65536)
      },
    }
    const put = storage.put('snapshots/s1', source)
    await halfway
    // The first piece has been pulled; give the write a moment to reach the file.
    await new Promise((resolve) => setTimeout(resolve, 20))
    const temps = []
    for await (const file of storage.listTemporary()) temps.push(file)
    expect(temps).toHaveLength(1)
    expect(temps[0]?.size).toBe(65536)
    expect(await storage.stat('snapshots/s1')).toBeNull()
    release()
    await put
    expect(await tmpFiles(root)).toEqual([])
    expect((await storage.stat('snapshots/s1'))?.size).toBe(2 * 65536)
  })

  it('removes the temporary file of a put whose source fails (partial write via FaultyStorage)', async () => {
    const inner = await FsStorage.open(root)
    await inner.put('config', bytesSource(Buffer.from('version 1')))
    const faulty = new FaultyStorage(inner, [
      { method: 'put', key: 'config', effect: { type: 'partial-put', bytes: 4 } },
      { method: 'put', key: 'chunks/', effect: { type: 'partial-put' } },
    ])
    expect(await codeOf(faulty.put('config', bytesSource(Buffer.from('version 2!'))))).toBe(
      'STORAGE_UNAVAILABLE',
    )
    expect(await codeOf(faulty.put('chunks/aa/x', bytesSource(new Uint8Array(100_000))))).toBe(
      'STORAGE_UNAVAILABLE',
    )
    faulty.assertAllFired()
    expect(Buffer.from(await inner.get('config')).toString()).toBe('version 1')
    expect(await inner.stat('chunks/aa/x')).toBeNull()
    expect(await tmpFiles(root)).toEqual([])
  })

  it('leaves only a temporary file when the writing process is killed (kill -9)', async () => {
    const script = join(await tempDir(), 'writer.mjs')
    await writeFile(script, childScript(root))
    // The flag is needed before Node 23.6 and harmless after.
    const writer = spawn(process.execPath, ['--experimental-strip-types', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    await new Promise<void>((resolve, reject) => {
      writer.stdout.on('data', (data: Buffer) => {
        if (data.toString().includes('writing')) resolve()
      })
      writer.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)))
    })
    writer.kill('SIGKILL')
    await new Promise((resolve) => writer.once('exit', resolve))
    await rm(join(script, '..'), { recursive: true, force: true })

    const storage = await FsStorage.open(root)
    expect(await storage.stat('snapshots/crashed')).toBeNull()
    expect(Buffer.from(await storage.get('config')).toString()).toBe('before the crash')
    const keys: string[] = []
    for await (const object of storage.list('')) keys.push(object.key)
    expect(keys).toEqual(['config'])
    const temps = []
    for await (const file of storage.listTemporary()) temps.push(file)
    expect(temps).toHaveLength(1)
    expect(temps[0]?.size).toBeGreaterThan(0)
    expect(await storage.cleanTemporary(new Date(Date.now() + 60_000))).toBe(1)
    expect(await tmpFiles(root)).toEqual([])
  })

  it('cleanTemporary removes only temporary files older than the given time', async () => {
    const storage = await FsStorage.open(root)
    await mkdir(join(root, 'tmp'))
    const old = join(root, 'tmp', 'old.tmp')
    const fresh = join(root, 'tmp', 'fresh.tmp')
    await writeFile(old, 'x')
    await writeFile(fresh, 'y')
    await writeFile(join(root, 'tmp', 'not-ours'), 'z')
    const hourAgo = new Date(Date.now() - 3_600_000)
    await utimes(old, hourAgo, hourAgo)
    expect(await storage.cleanTemporary(new Date(Date.now() - 60_000))).toBe(1)
    expect((await tmpFiles(root)).sort()).toEqual(['fresh.tmp', 'not-ours'])
    expect(await codeOf(new FsStorage(join(root, 'nowhere')).cleanTemporary(new Date()))).toBe(
      'STORAGE_LOCATION_NOT_FOUND',
    )
  })

  it('tells a missing root (STORAGE_LOCATION_NOT_FOUND) from a missing object', async () => {
    const missing = join(root, 'no', 'such', 'dir')
    expect(await codeOf(FsStorage.open(missing))).toBe('STORAGE_LOCATION_NOT_FOUND')
    const lazy = new FsStorage(missing)
    expect(await codeOf(lazy.get('config'))).toBe('STORAGE_LOCATION_NOT_FOUND')
    expect(await codeOf(lazy.put('config', bytesSource(Uint8Array.of(1))))).toBe(
      'STORAGE_LOCATION_NOT_FOUND',
    )
    expect(await codeOf(lazy.stat('config'))).toBe('STORAGE_LOCATION_NOT_FOUND')
    expect(await codeOf(lazy.delete('config'))).toBe('STORAGE_LOCATION_NOT_FOUND')
    expect(await codeOf(lazy.get('chunks/ab/c', { range: { offset: 0, length: 1 } }))).toBe(
      'STORAGE_LOCATION_NOT_FOUND',
    )
    const listing = (async () => {
      for await (const _ of lazy.list('chunks/')) return
    })()
    expect(await codeOf(listing)).toBe('STORAGE_LOCATION_NOT_FOUND')
    await expect(lazy.stat('config').catch((e: DbsnapError) => e.message)).resolves.toContain(
      missing,
    )
    const created = await FsStorage.open(missing, { create: true })
    expect(await created.stat('config')).toBeNull()
  })

  it('refuses a root that is a file, or under a file (ENOTDIR)', async () => {
    const file = join(root, 'plain-file')
    await writeFile(file, 'not a directory')
    expect(await codeOf(FsStorage.open(file))).toBe('STORAGE_LOCATION_NOT_FOUND')
    expect(await codeOf(FsStorage.open(join(file, 'sub')))).toBe('STORAGE_LOCATION_NOT_FOUND')
    expect(await codeOf(new FsStorage(join(file, 'sub')).get('config'))).toBe(
      'STORAGE_LOCATION_NOT_FOUND',
    )
    expect(
      await codeOf(new FsStorage(join(file, 'sub')).put('config', bytesSource(Uint8Array.of(1)))),
    ).toBe('STORAGE_LOCATION_NOT_FOUND')
  })

  it('cannot hold both a key and keys under it (a filesystem limit)', async () => {
    const storage = await FsStorage.open(root)
    await storage.put('a', bytesSource(Uint8Array.of(1)))
    expect(await codeOf(storage.put('a/b', bytesSource(Uint8Array.of(2))))).toBe('STORAGE_FAILED')
    expect(await codeOf(storage.get('a/b'))).toBe('STORAGE_NOT_FOUND')
    expect(await storage.stat('a/b')).toBeNull()
    await storage.delete('a/b')
    expect(await tmpFiles(root)).toEqual([])
  })

  describe.skipIf(!canWriteProtect())(
    'on a read-only location (mode 0500; as root, which ignores modes, a read-only bind mount: skipped when root cannot mount)',
    () => {
      it('rejects writes with STORAGE_PERMISSION_DENIED and still reads', async () => {
        const storage = await FsStorage.open(root)
        await storage.put('config', bytesSource(Buffer.from('readable')))
        const restore = await writeProtect(root)
        try {
          expect(await codeOf(storage.put('other', bytesSource(Uint8Array.of(1))))).toBe(
            'STORAGE_PERMISSION_DENIED',
          )
          expect(await codeOf(storage.put('config', bytesSource(Uint8Array.of(1))))).toBe(
            'STORAGE_PERMISSION_DENIED',
          )
          expect(await codeOf(storage.delete('config'))).toBe('STORAGE_PERMISSION_DENIED')
          expect(Buffer.from(await storage.get('config')).toString()).toBe('readable')
        } finally {
          await restore()
        }
      })
    },
  )

  describe.skipIf(!canMountTmpfs)(
    'on a full filesystem (a 64 KiB tmpfs: skipped unless running as root with mount rights)',
    () => {
      it('rejects a put with STORAGE_FULL, removes its temporary file, keeps older objects', async () => {
        const mountPoint = join(root, 'small')
        await mkdir(mountPoint)
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint])
        try {
          const storage = await FsStorage.open(mountPoint)
          await storage.put('config', bytesSource(Buffer.from('fits')))
          const error = await storage
            .put('big', bytesSource(new Uint8Array(256 * 1024)))
            .catch((err: unknown) => err)
          expect(error).toMatchObject({ code: 'STORAGE_FULL', retryable: false })
          expect((error as Error).message).toContain('no space left')
          expect(await storage.stat('big')).toBeNull()
          expect(await tmpFiles(mountPoint)).toEqual([])
          expect(Buffer.from(await storage.get('config')).toString()).toBe('fits')
          await storage.put('small', bytesSource(Buffer.from('still room for this')))
        } finally {
          execFileSync('umount', [mountPoint])
        }
      })
    },
  )
})

/** Whether mounting a tmpfs works here (root in a container that allows it). */
const canMountTmpfs = ((): boolean => {
  if (process.getuid?.() !== 0) return false
  const probe = join(tmpdir(), `dbsnap-mount-probe-${process.pid}`)
  try {
    execFileSync('mkdir', ['-p', probe])
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', probe], { stdio: 'ignore' })
    execFileSync('umount', [probe])
    return true
  } catch {
    return false
  } finally {
    execFileSync('rmdir', [probe])
  }
})()

/**
 * Whether `writeProtect` can work: root ignores file modes, so as root the directory gets a
 * read-only bind mount instead (needs mount rights).
 */
function canWriteProtect(): boolean {
  return process.getuid?.() !== 0 || canMountTmpfs
}

/** Makes `dir` unwritable: mode 0500 for a normal user, a read-only bind mount for root. */
async function writeProtect(dir: string): Promise<() => Promise<void>> {
  if (process.getuid?.() !== 0) {
    await chmod(dir, 0o500)
    return () => chmod(dir, 0o700)
  }
  execFileSync('mount', ['--bind', dir, dir])
  execFileSync('mount', ['-o', 'remount,bind,ro', dir])
  return () => {
    execFileSync('umount', [dir])
    return Promise.resolve()
  }
}

/**
 * A Node script that stores `config`, then starts a put of `snapshots/crashed` whose source
 * writes 1 MiB, prints "writing" and never finishes, for the parent to kill. It loads the
 * TypeScript sources through Node's type stripping, mapping `.js` imports to `.ts`.
 */
function childScript(root: string): string {
  const module = fileURLToPath(new URL('./fs-storage.ts', import.meta.url))
  const storage = fileURLToPath(new URL('../storage.ts', import.meta.url))
  const hook = `export async function resolve(spec, ctx, next) {
    try { return await next(spec, ctx) } catch (err) {
      if (spec.startsWith('.') && spec.endsWith('.js')) return next(spec.slice(0, -3) + '.ts', ctx)
      throw err
    }
  }`
  return `
import { register } from 'node:module'
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}))
const { FsStorage } = await import(${JSON.stringify(module)})
const { bytesSource } = await import(${JSON.stringify(storage)})
const storage = await FsStorage.open(${JSON.stringify(root)})
await storage.put('config', bytesSource(Buffer.from('before the crash')))
await storage.put('snapshots/crashed', {
  size: 4 * 1024 * 1024,
  async *open() {
    for (let i = 0; i < 16; i += 1) yield new Uint8Array(64 * 1024).fill(i)
    console.log('writing')
    await new Promise(() => setInterval(() => {}, 1000))
  },
})
`
}
