// Real network conditions for error-path tests: a port nobody listens on, and a server that
// accepts connections but never answers (what a firewall that drops packets looks like).

import { createServer, type Server, type Socket } from 'node:net'

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
