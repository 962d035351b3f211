// CopyOutQuery against a scripted socket: the COPY data taken out of the protocol messages
// wherever the socket reads split them, and the rest handed back to node-postgres.

import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { CopyOutQuery } from './postgres-copy-out.js'

/** A backend message: code, length (itself included), payload. */
function message(code: string, payload: string | Buffer = ''): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload
  const header = Buffer.alloc(5)
  header.write(code, 0, 'latin1')
  header.writeUInt32BE(body.length + 4, 1)
  return Buffer.concat([header, body])
}

const ROWS = ['1\tä\n', '2\t\\N\n', '', '3\t' + 'x'.repeat(300) + '\n']
const COPY = Buffer.concat([
  message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0])),
  message('d', ROWS[0]),
  message('N', 'notice'),
  message('d', ROWS[1]),
  message('d', ROWS[2]),
  message('S', 'TimeZone\0UTC\0'),
  message('d', ROWS[3]),
  message('c'),
])
const AFTER = Buffer.concat([message('C', 'COPY 3\0'), message('Z', 'T')])

/**
 * Runs a CopyOutQuery over a socket that delivers `bytes` in `cuts` pieces; resolves with the
 * stream's bytes, what node-postgres' handler got, and whether the stream ended (at an error it
 * waits for node-postgres to call `handleError`).
 */
async function run(
  bytes: Buffer,
  cuts: number[],
): Promise<{ data: Buffer; handed: Buffer; ended: boolean }> {
  const socket = new PassThrough()
  const handed: Buffer[] = []
  socket.on('data', (chunk: Buffer) => handed.push(chunk))
  const query = new CopyOutQuery('COPY t TO STDOUT')
  const sent: string[] = []
  query.submit({ stream: socket, query: (text) => sent.push(text) })
  expect(sent).toEqual(['COPY t TO STDOUT'])
  let at = 0
  for (const cut of [...cuts, bytes.length]) {
    // A copy: the query moves payloads within the buffers it reads.
    socket.write(Buffer.from(bytes.subarray(at, cut)))
    at = cut
  }
  const data: Buffer[] = []
  const ended = await new Promise<boolean>((resolve) => {
    query.on('end', () => resolve(true))
    query.on('data', (chunk: Buffer) => data.push(Buffer.from(chunk)))
    setTimeout(() => resolve(false), 50)
  })
  await new Promise((resolve) => setImmediate(resolve))
  return { data: Buffer.concat(data), handed: Buffer.concat(handed), ended }
}

describe('CopyOutQuery', () => {
  const all = Buffer.concat([COPY, AFTER])
  const payload = Buffer.from(ROWS.join(''), 'utf8')

  it('takes the CopyData payloads out of one read and hands back what follows CopyDone', async () => {
    const { data, handed } = await run(all, [])
    expect(data.toString('utf8')).toBe(payload.toString('utf8'))
    expect(handed).toEqual(AFTER)
  })

  it('gives the same bytes wherever two reads split the messages', async () => {
    for (let cut = 1; cut < all.length; cut++) {
      const { data, handed } = await run(all, [cut])
      expect(data, `cut at ${cut}`).toEqual(payload)
      expect(handed, `cut at ${cut}`).toEqual(AFTER)
    }
  })

  it('gives the same bytes when the socket delivers one byte at a time', async () => {
    const cuts = Array.from({ length: all.length - 1 }, (_, i) => i + 1)
    const { data, handed } = await run(all, cuts)
    expect(data).toEqual(payload)
    expect(handed).toEqual(AFTER)
  })

  it('hands an ErrorResponse and what follows to node-postgres, the data before it read', async () => {
    const failure = Buffer.concat([message('E', 'SERROR\0'), message('Z', 'I')])
    const bytes = Buffer.concat([message('H', Buffer.alloc(3)), message('d', 'a\n'), failure])
    for (const cuts of [[], [8], [bytes.length - failure.length]]) {
      const { data, handed, ended } = await run(bytes, cuts)
      expect(data.toString()).toBe('a\n')
      expect(handed).toEqual(failure)
      expect(ended).toBe(false)
    }
  })

  it('yields the payload of each socket read on its own, however far behind its reader is', async () => {
    const socket = new PassThrough()
    const handed: Buffer[] = []
    socket.on('data', (chunk: Buffer) => handed.push(chunk))
    const query = new CopyOutQuery('COPY t TO STDOUT')
    query.submit({ stream: socket, query: () => undefined })
    const reads = [
      Buffer.concat([message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0])), message('d', ROWS[0])]),
      message('d', ROWS[1]),
      Buffer.concat([message('d', ROWS[3]), message('c'), AFTER]),
    ]
    const chunks = query[Symbol.asyncIterator]() as AsyncIterator<Buffer>
    socket.write(reads[0])
    const seen = [((await chunks.next()).value as Buffer).toString('utf8')]
    // The reader waits while two more reads come in, each its own 'readable' on the socket.
    for (const read of reads.slice(1)) {
      socket.write(read)
      await new Promise((resolve) => setImmediate(resolve))
    }
    for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) {
      seen.push(next.value.toString('utf8'))
    }
    expect(seen).toEqual([ROWS[0], ROWS[1], ROWS[3]])
    await new Promise((resolve) => setImmediate(resolve))
    expect(Buffer.concat(handed)).toEqual(AFTER)
  })
})
