import { describe, expect, it } from 'vitest'
import { MemoryStorage } from '../memory/memory-storage.js'
import { describeStorageConformance } from '../storage-conformance.js'
import { bytesSource } from '../storage.js'
import { OverlayStorage } from './overlay-storage.js'

describeStorageConformance('OverlayStorage', () =>
  Promise.resolve({
    storage: new OverlayStorage(new MemoryStorage('upper'), new MemoryStorage('lower')),
    cleanup: () => Promise.resolve(),
  }),
)

describe('OverlayStorage', () => {
  it('reads through to the lower storage and never writes to it', async () => {
    const lower = new MemoryStorage('lower')
    await lower.put('config', bytesSource(Buffer.from('lower config')))
    await lower.put('chunks/aa/x', bytesSource(Buffer.from('old')))
    const overlay = new OverlayStorage(new MemoryStorage('upper'), lower)
    expect(Buffer.from(await overlay.get('config')).toString()).toBe('lower config')
    await overlay.put('chunks/aa/x', bytesSource(Buffer.from('new')))
    await overlay.put('chunks/bb/y', bytesSource(Buffer.from('y')))
    expect(Buffer.from(await overlay.get('chunks/aa/x')).toString()).toBe('new')
    expect(Buffer.from(await lower.get('chunks/aa/x')).toString()).toBe('old')
    expect(await lower.stat('chunks/bb/y')).toBeNull()
    const keys: string[] = []
    for await (const info of overlay.list('chunks/')) keys.push(info.key)
    expect(keys.sort()).toEqual(['chunks/aa/x', 'chunks/bb/y'])
    await overlay.delete('config')
    expect(await lower.stat('config')).not.toBeNull()
  })
})
