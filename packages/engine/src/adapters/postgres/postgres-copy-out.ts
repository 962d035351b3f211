// A `COPY … TO STDOUT` query for node-postgres as a Readable of the COPY output's bytes (a Buffer
// a socket read), framing taken out in place: what pg-copy-streams' `to` does, without a Buffer
// object per row.

import { Readable, type Duplex } from 'node:stream'

/** Backend message codes of the COPY OUT flow (PostgreSQL manual, "Message Formats"). */
const ERROR_RESPONSE = 0x45
const COPY_OUT_RESPONSE = 0x48
const COPY_DATA = 0x64
const NOTIFICATION_RESPONSE = 0x41
const NOTICE_RESPONSE = 0x4e
const PARAMETER_STATUS = 0x53
const COMMAND_COMPLETE = 0x43

/** The part of node-postgres' `Connection` a submittable query uses. */
interface PgConnection {
  readonly stream: Duplex
  query(text: string): void
}

type DataHandler = (chunk: Buffer) => void

/**
 * Submit with `client.query(copyOut(sql))`; read the stream for the bytes of the COPY output, in
 * Buffers (the stream is in object mode: each read's payloads come as one, never joined).
 * The query may begin with statements that return no rows (`SAVEPOINT x; COPY …`): their
 * completions are passed over, so the COPY costs no round trip of its own.
 *
 * Like pg-copy-streams' `to` (whose protocol handling this follows), it takes the connection's
 * socket over from node-postgres while the COPY runs, reading only as fast as the stream is
 * read, and hands it back at the end of the data or at an error, which node-postgres then parses
 * and reports through `handleError` (the stream's `'error'`). The difference is the copying:
 * each socket read is cut into message payloads by moving them down over the 5-byte headers in
 * the same buffer, which is pushed as one chunk; nothing is allocated per row.
 */
export class CopyOutQuery extends Readable {
  readonly text: string
  /** The server's row count, from its `COPY n` command tag; 0 until then. */
  rowCount = 0
  #connection: PgConnection | undefined
  #pgDataHandler: DataHandler | undefined
  readonly #onReadable = (): void => this.#forward()
  /** The message being read: its code, and bytes of its payload still to come. */
  #code = 0
  #left = 0
  /** Header bytes (code + length) of the next message read so far: 0 to 4 (5 is a whole one). */
  readonly #header = Buffer.alloc(5)
  #headerBytes = 0
  #wantMore = false
  /** The server has begun the COPY (CopyOutResponse): what completes now ends it. */
  #copying = false
  #forwarding = false
  #detached = false

  constructor(text: string) {
    // A chunk per socket read, never joined: a byte stream's `read()` hands its reader everything
    // buffered as one new Buffer, and a reader that fell behind then decoded strings of several
    // reads at once, large objects of V8 that are allocated (and faulted in) anew every time.
    super({ objectMode: true, highWaterMark: 4 })
    this.text = text
  }

  /** Called by node-postgres when the query's turn comes. */
  submit(connection: PgConnection): void {
    this.#connection = connection
    const stream = connection.stream
    const listeners = stream.listeners('data') as DataHandler[]
    if (listeners.length !== 1) {
      throw new Error(`expected node-postgres' one socket data listener, got ${listeners.length}`)
    }
    this.#pgDataHandler = listeners[0]
    stream.removeListener('data', this.#pgDataHandler!)
    stream.pause()
    stream.on('readable', this.#onReadable)
    connection.query(this.text)
  }

  override _read(): void {
    this.#wantMore = true
    this.#forward()
  }

  #forward(): void {
    if (this.#forwarding || !this.#wantMore || this.#detached || this.#connection === undefined)
      return
    this.#forwarding = true
    const stream = this.#connection.stream
    let chunk: Buffer | null
    while (this.#wantMore && !this.#detached && (chunk = stream.read() as Buffer | null) !== null) {
      this.#wantMore = this.#parse(chunk)
    }
    this.#forwarding = false
  }

  /** Takes the payloads of CopyData messages out of `chunk`; returns whether to read on. */
  #parse(chunk: Buffer): boolean {
    const n = chunk.length
    let pos = 0
    let out = 0
    let done = false
    while (pos < n) {
      if (this.#left === 0 && this.#headerBytes < 5) {
        if (this.#headerBytes === 0 && chunk[pos] === ERROR_RESPONSE) {
          // node-postgres parses the error and fails the query with it.
          return this.#finish(chunk, out, pos, false)
        }
        if (this.#headerBytes === 0 && n - pos >= 5) {
          // A whole header in the chunk, as for all but one message a read: read in place (a
          // `copy` per message, one per row, cost more than the row's payload move).
          this.#code = chunk[pos]!
          this.#left = chunk.readUInt32BE(pos + 1) - 4
          pos += 5
        } else {
          const take = Math.min(5 - this.#headerBytes, n - pos)
          chunk.copy(this.#header, this.#headerBytes, pos, pos + take)
          this.#headerBytes += take
          pos += take
          if (this.#headerBytes < 5) break
          this.#code = this.#header[0]!
          this.#left = this.#header.readUInt32BE(1) - 4
        }
        this.#headerBytes = 5
      }
      const take = Math.min(this.#left, n - pos)
      if (this.#code === COPY_DATA && take > 0) {
        // `out` never passes `pos` (every message has a 5-byte header), so this only overwrites
        // bytes already read.
        if (out !== pos) chunk.copyWithin(out, pos, pos + take)
        out += take
      }
      pos += take
      this.#left -= take
      if (this.#left > 0) break
      this.#headerBytes = 0
      if (this.#code === COPY_OUT_RESPONSE) this.#copying = true
      // A statement sent before the COPY in the same query (a `SAVEPOINT`) completes: read on.
      const beforeCopy = this.#code === COMMAND_COMPLETE && !this.#copying
      if (!beforeCopy && !isCopyOutMessage(this.#code)) {
        // CopyDone, or anything else that ends copy-out mode: the rest is node-postgres' again.
        done = true
        break
      }
    }
    return this.#finish(chunk, out, pos, done)
  }

  /** Pushes the payload bytes; on `end` (done) or at an error (pos at it), detaches. */
  #finish(chunk: Buffer, out: number, pos: number, done: boolean): boolean {
    const ending = done || pos < chunk.length
    const more = out > 0 ? this.push(chunk.subarray(0, out)) : true
    if (!ending) return more
    this.#detach(chunk.subarray(pos))
    if (done) this.push(null)
    return false
  }

  /** Gives the socket back to node-postgres along with the bytes not read here. */
  #detach(unread: Buffer): void {
    this.#detached = true
    const stream = this.#connection!.stream
    const handler = this.#pgDataHandler!
    stream.removeListener('readable', this.#onReadable)
    stream.on('data', handler)
    handler(unread)
    // Adding the listener may not restart a paused socket, and node-postgres' handler may
    // pause it again: resume once that has run.
    process.nextTick(() => stream.resume())
  }

  /** Called by node-postgres with the server's error (or a connection failure). */
  handleError(err: Error): void {
    this.emit('error', err)
  }

  /** Called by node-postgres with the command tag once the COPY has finished. */
  handleCommandComplete(message: { text?: string } | undefined): void {
    const match = /COPY (\d+)/.exec(message?.text ?? '')
    if (match !== null) this.rowCount = Number(match[1])
  }

  /** Called by node-postgres when the connection is ready for the next query. */
  handleReadyForQuery(): void {}
}

/** Messages that may come within copy-out mode without ending it. */
function isCopyOutMessage(code: number): boolean {
  return (
    code === COPY_DATA ||
    code === COPY_OUT_RESPONSE ||
    code === PARAMETER_STATUS ||
    code === NOTICE_RESPONSE ||
    code === NOTIFICATION_RESPONSE
  )
}
