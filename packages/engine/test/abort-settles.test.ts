// Aborts that land while a connection is still starting up: whatever the server does, the
// caller's promise settles with ABORTED at once (a pending one would hang a snapshot for good).

import { describe, expect, it } from 'vitest'
import { blackhole } from '../../../test/net.js'
import { connect, connectTarget } from '../src/index.js'

/** How long an aborted connect may take to settle; the connect timeout is far longer. */
const SETTLE_MS = 2000

describe('an abort during connect', () => {
  it.each([
    ['postgres', connect],
    ['mysql', connect],
    ['mongodb', connect],
    ['postgres', connectTarget],
    ['mysql', connectTarget],
    ['mongodb', connectTarget],
  ] as const)(
    '%s (%o): settles with ABORTED while the server has not answered',
    async (scheme, open) => {
      // The server takes the connection and never answers; it closes its side when the client
      // closes its own, as a server does.
      const controller = new AbortController()
      let abortedAt = 0
      const abort = (): void => {
        abortedAt = Date.now()
        controller.abort()
      }
      // Aborted once the client waits for the server: a MySQL server speaks first, the others
      // answer the client's first message.
      const hole = await blackhole((socket) => {
        if (scheme === 'mysql') abort()
        else socket.once('data', abort)
      })
      try {
        const pending = open(`${scheme}://u:secret@127.0.0.1:${hole.port}/db`, {
          signal: controller.signal,
          timeoutMs: 60_000,
        })
        await expect(pending).rejects.toMatchObject({ code: 'ABORTED' })
        expect(abortedAt).toBeGreaterThan(0)
        expect(Date.now() - abortedAt).toBeLessThan(SETTLE_MS)
      } finally {
        await hole.close()
      }
    },
  )
})
