// A TCP proxy on loopback that holds every piece of data for a fixed time in each direction: a
// database some milliseconds away (a round trip costs twice the delay), for benches that compare
// tools whose round trips differ. It runs in the bench's own process, so the tools measured
// share the same proxy and its CPU.

import net from 'node:net'

export interface DelayProxy {
  /** The URL of the proxied server: `url` with the proxy's host and port. */
  url: string
  close(): Promise<void>
}

/** Starts a proxy in front of the server of `url`, adding `delayMs` each way. */
export async function startDelayProxy(url: string, delayMs: number): Promise<DelayProxy> {
  const target = new URL(url)
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    }
    const forward = (from: net.Socket, to: net.Socket): void => {
      // Order is kept: every piece waits the same time, and timers of equal delay fire in order.
      from.on('data', (data) => setTimeout(() => to.write(data), delayMs))
      from.on('end', () => setTimeout(() => to.end(), delayMs))
      from.on('error', () => to.destroy())
    }
    forward(client, upstream)
    forward(upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  const proxied = new URL(url)
  proxied.hostname = '127.0.0.1'
  proxied.port = String(port)
  return {
    url: proxied.toString(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
