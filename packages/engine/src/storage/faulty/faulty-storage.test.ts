import { describe, expect, it } from 'vitest'
import { DbsnapError, isDbsnapError } from '../../errors.js'
import { MemoryStorage } from '../memory/memory-storage.js'
import { describeStorageConformance } from '../storage-conformance.js'
import { bytesSource, type ByteSource, type PutOptions } from '../storage.js'
import { FaultyStorage } from './faulty-storage.js'

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (err: unknown) => (isDbsnapError(err) ? err.code : err),
  )
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString()

// With no faults planned, the wrapper is a Storage like any other.
describeStorageConformance('FaultyStorage without faults', () =>
  Promise.resolve({
    storage: new FaultyStorage(new MemoryStorage()),
    cleanup: () => Promise.resolve(),
  }),
)

describe('FaultyStorage', () => {
  it('fails the planned number of calls with a retryable STORAGE_UNAVAILABLE, then passes', async () => {
    const storage = new FaultyStorage(new MemoryStorage(), [{ method: 'put', times: 2 }])
    const error = await storage.put('a', bytesSource(Uint8Array.of(1))).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      retryable: true,
      details: { injected: true },
    })
    expect(await codeOf(storage.put('a', bytesSource(Uint8Array.of(1))))).toBe(
      'STORAGE_UNAVAILABLE',
    )
    await storage.put('a', bytesSource(Uint8Array.of(1)))
    expect([...(await storage.get('a'))]).toEqual([1])
    storage.assertAllFired()
  })

  it('fires after M matching calls succeeded, and only on keys that match', async () => {
    const inner = new MemoryStorage()
    const storage = new FaultyStorage(inner, [
      { method: 'get', key: /^chunks\/ab\//, after: 2, times: 1 },
      { method: 'stat', key: 'snapshots/', times: Infinity },
    ])
    await inner.put('chunks/ab/1', bytesSource(Buffer.from('one')))
    await inner.put('chunks/cd/2', bytesSource(Buffer.from('two')))
    expect(text(await storage.get('chunks/ab/1'))).toBe('one')
    expect(text(await storage.get('chunks/cd/2'))).toBe('two')
    expect(text(await storage.get('chunks/ab/1'))).toBe('one')
    expect(await codeOf(storage.get('chunks/ab/1'))).toBe('STORAGE_UNAVAILABLE')
    expect(text(await storage.get('chunks/ab/1'))).toBe('one')
    for (let i = 0; i < 3; i += 1) {
      expect(await codeOf(storage.stat(`snapshots/${i}`))).toBe('STORAGE_UNAVAILABLE')
    }
    expect(await storage.stat('config')).toBeNull()
    storage.assertAllFired()
  })

  it('throws the configured error, after a delay when asked', async () => {
    const custom = new DbsnapError('STORAGE_PERMISSION_DENIED', 'injected: no access')
    const storage = new FaultyStorage(new MemoryStorage(), [
      { method: 'delete', effect: { type: 'error', error: custom } },
      { method: 'delete', effect: { type: 'error', delayMs: 50 } },
    ])
    await expect(storage.delete('x')).rejects.toBe(custom)
    const started = Date.now()
    expect(await codeOf(storage.delete('x'))).toBe('STORAGE_UNAVAILABLE')
    expect(Date.now() - started).toBeGreaterThanOrEqual(45)
    storage.assertAllFired()
  })

  it('hangs until the call is aborted, then rejects with ABORTED', async () => {
    const storage = new FaultyStorage(new MemoryStorage(), [
      { method: 'stat', effect: { type: 'hang' } },
      { method: 'put', effect: { type: 'error', delayMs: 60_000 } },
    ])
    const started = Date.now()
    expect(await codeOf(storage.stat('x', { signal: AbortSignal.timeout(50) }))).toBe('ABORTED')
    expect(
      await codeOf(
        storage.put('x', bytesSource(Uint8Array.of(1)), { signal: AbortSignal.timeout(50) }),
      ),
    ).toBe('ABORTED')
    expect(Date.now() - started).toBeLessThan(5_000)
    storage.assertAllFired()
  })

  it('performs the call and then fails it when the reply is "lost"', async () => {
    const inner = new MemoryStorage()
    const storage = new FaultyStorage(inner, [
      { method: 'put', effect: { type: 'lost-reply' } },
      { method: 'delete', effect: { type: 'lost-reply' } },
    ])
    expect(await codeOf(storage.put('k', bytesSource(Buffer.from('stored anyway'))))).toBe(
      'STORAGE_UNAVAILABLE',
    )
    expect(text(await inner.get('k'))).toBe('stored anyway')
    expect(await codeOf(storage.delete('k'))).toBe('STORAGE_UNAVAILABLE')
    expect(await inner.stat('k')).toBeNull()
    storage.assertAllFired()
  })

  it('fails a listing before it yields anything', async () => {
    const inner = new MemoryStorage()
    await inner.put('locks/1', bytesSource(Uint8Array.of(1)))
    const storage = new FaultyStorage(inner, [{ method: 'list', key: 'locks/' }])
    const keys: string[] = []
    const listing = (async () => {
      for await (const object of storage.list('locks/')) keys.push(object.key)
    })()
    expect(await codeOf(listing)).toBe('STORAGE_UNAVAILABLE')
    expect(keys).toEqual([])
    for await (const object of storage.list('locks/')) keys.push(object.key)
    expect(keys).toEqual(['locks/1'])
    storage.assertAllFired()
  })

  it('writes partially then fails a put, which must leave the previous content', async () => {
    const inner = new MemoryStorage()
    await inner.put('config', bytesSource(Buffer.from('v1')))
    const broke = new DbsnapError('STORAGE_UNAVAILABLE', 'connection reset mid-upload', {
      retryable: true,
    })
    let yielded = 0
    const spy = new (class extends MemoryStorage {
      override async put(key: string, source: ByteSource, options?: PutOptions): Promise<void> {
        const counted: ByteSource = {
          size: source.size,
          async *open() {
            for await (const piece of source.open()) {
              yielded += piece.byteLength
              yield piece
            }
          },
        }
        return inner.put(key, counted, options)
      }
    })()
    const storage = new FaultyStorage(spy, [
      { method: 'put', effect: { type: 'partial-put', bytes: 3, error: broke } },
    ])
    await expect(storage.put('config', bytesSource(Buffer.from('version 2')))).rejects.toBe(broke)
    expect(yielded).toBe(3)
    expect(text(await inner.get('config'))).toBe('v1')
    storage.assertAllFired()
  })

  it('reports a storage that accepts a put whose source failed', async () => {
    const sloppy = new (class extends MemoryStorage {
      override async put(key: string, source: ByteSource): Promise<void> {
        try {
          for await (const _ of source.open());
        } catch {
          // A broken storage: it swallows the source's failure and reports success.
        }
        await super.put(key, bytesSource(new Uint8Array(0)))
      }
    })()
    const storage = new FaultyStorage(sloppy, [{ method: 'put', effect: { type: 'partial-put' } }])
    expect(await codeOf(storage.put('k', bytesSource(new Uint8Array(10))))).toBe('INTERNAL')
  })

  it('validates keys and signals before any fault, without consuming it', async () => {
    const storage = new FaultyStorage(new MemoryStorage(), [{ method: 'get' }])
    expect(await codeOf(storage.get('../x'))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(storage.get('x', { signal: AbortSignal.abort() }))).toBe('ABORTED')
    expect(() => storage.assertAllFired()).toThrow(/get/)
    expect(await codeOf(storage.get('x'))).toBe('STORAGE_UNAVAILABLE')
    storage.assertAllFired()
  })

  it('assertAllFired names every fault that did not fire as planned', async () => {
    const storage = new FaultyStorage(new MemoryStorage(), [
      { method: 'put', key: 'snapshots/', times: 2 },
      { method: 'list', times: Infinity },
      { method: 'delete', key: /^locks\// },
    ])
    await codeOf(storage.put('snapshots/a', bytesSource(Uint8Array.of(1))))
    const error = (() => {
      try {
        storage.assertAllFired()
        return undefined
      } catch (err) {
        return err
      }
    })()
    expect(error).toMatchObject({ code: 'INTERNAL' })
    const message = (error as Error).message
    expect(message).toContain('put snapshots/ error after 0 fired 1 of 2 (1 matching calls)')
    expect(message).toContain('list')
    expect(message).toContain('delete /^locks\\// error after 0 fired 0 of 1')
  })

  it('refuses a partial-put fault on another method', () => {
    expect(
      () =>
        new FaultyStorage(new MemoryStorage(), [
          { method: 'get', effect: { type: 'partial-put' } },
        ]),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error)
  })
})
