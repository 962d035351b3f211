import { describeStorageConformance } from '../storage-conformance.js'
import { MemoryStorage } from './memory-storage.js'

describeStorageConformance('MemoryStorage', () =>
  Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }),
)
