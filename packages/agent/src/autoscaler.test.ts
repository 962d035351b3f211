import { silentLogger } from '@dbsnap/engine/core'
import { describe, expect, it } from 'vitest'
import { Autoscaler, type ScalableRunner } from './autoscaler.js'
import type { AgentQueue } from './control-plane-client.js'

/** Slots as numbers: what the autoscaler asks of a runner, without running jobs. */
class Slots implements ScalableRunner {
  slots = 1
  running = 0
  stopping = false
  addSlot(): void {
    this.slots++
  }
  retireSlot(): void {
    if (this.slots > 1) this.slots--
  }
}

describe('the autoscaler', () => {
  const setup = () => {
    const runner = new Slots()
    let answer: AgentQueue | Error = queue(0)
    const scaler = new Autoscaler({
      runner,
      queue: () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)),
      range: { min: 1, max: 4 },
      logger: silentLogger,
      idleMs: 10_000,
    })
    return { runner, scaler, set: (a: AgentQueue | Error) => (answer = a) }
  }
  const queue = (pending: number): AgentQueue => ({
    projectId: 'p',
    pending,
    delayed: 0,
    running: 0,
    oldestPendingAgeSeconds: 0,
  })

  it('grows at once to running + pending, within the maximum', async () => {
    const { runner, scaler, set } = setup()
    set(queue(2))
    await scaler.tick(0)
    expect(runner.slots).toBe(2)
    runner.running = 2
    set(queue(9))
    await scaler.tick(1_000)
    expect(runner.slots).toBe(4)
  })

  it('shrinks only after wanting fewer for the idle time, and never below the minimum', async () => {
    const { runner, scaler, set } = setup()
    set(queue(3))
    await scaler.tick(0)
    expect(runner.slots).toBe(3)
    set(queue(0))
    await scaler.tick(1_000)
    await scaler.tick(10_999)
    expect(runner.slots).toBe(3)
    // Work came back meanwhile: the idle time starts again.
    set(queue(3))
    await scaler.tick(11_000)
    set(queue(0))
    await scaler.tick(12_000)
    await scaler.tick(21_999)
    expect(runner.slots).toBe(3)
    await scaler.tick(22_000)
    expect(runner.slots).toBe(1)
  })

  it('keeps its slots while the queue cannot be read, and does nothing while stopping', async () => {
    const { runner, scaler, set } = setup()
    set(queue(3))
    await scaler.tick(0)
    set(new Error('unreachable'))
    await scaler.tick(60_000)
    expect(runner.slots).toBe(3)
    runner.stopping = true
    set(queue(0))
    await scaler.tick(120_000)
    await scaler.tick(240_000)
    expect(runner.slots).toBe(3)
  })
})
