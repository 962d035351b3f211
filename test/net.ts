// Real network conditions for error-path tests: a port nobody listens on, and a server that
// accepts connections but never answers (what a firewall that drops packets looks like), and one
// slow to close.

import { connect, createServer, type Server, type Socket } from 'node:net'

/** A loopback port that was free a moment ago: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export interface Blackhole {
  port: number
  close(): Promise<void>
}

/** Accepts TCP connections and never sends a byte; `onConnection` sees each one. */
export async function blackhole(onConnection?: (socket: Socket) => void): Promise<Blackhole> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    onConnection?.(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * Forwards TCP connections to `port` on loopback, but passes the server's closing on to the
 * client only `lingerMs` later: a server slow to close its side (a backend's exit on a busy
 * machine, a long round trip).
 */
export async function slowClosingProxy(port: number, lingerMs: number): Promise<Blackhole> {
  const sockets = new Set<Socket>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.on('close', () => sockets.delete(socket))
  }
  // Half-open: the client's closing must not close the proxy's side towards it at once.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    track(client)
    const upstream = connect({ host: '127.0.0.1', port, allowHalfOpen: true })
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client, { end: false })
    upstream.on('end', () => setTimeout(() => client.end(), lingerMs))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port: listening } = server.address() as { port: number }
  return {
    port: listening,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
