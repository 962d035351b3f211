// The scheduler's decisions with an injected clock and a stand-in for the control plane's two
// schedule calls (the process tests run it against the real one): ticks asked of the control
// plane, run locally when it cannot be reached, and one catch-up run after a restart.

import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@dbsnap/engine/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ControlPlaneCallError, type AgentSchedule } from './control-plane-client.js'
import { Scheduler } from './scheduler.js'

const schedule: AgentSchedule = {
  id: 's1',
  projectId: 'p1',
  connectionId: 'c1',
  cron: '0 * * * *',
  timezone: 'UTC',
  retention: { keepLast: 3 },
  connection: { id: 'c1', name: 'shop', engine: 'postgres', url: 'postgres://db/shop' },
}

const unreachable = () => new ControlPlaneCallError(undefined, 'UNREACHABLE', 'down')

function world(dir: string, start: string, options: { keepSchedules?: boolean } = {}) {
  let now = new Date(start)
  let reachable = true
  const asked: string[] = []
  const local: string[] = []
  const make = () =>
    new Scheduler({
      stateDir: dir,
      keepSchedules: options.keepSchedules,
      logger: silentLogger,
      now: () => now,
      pollMs: 3_600_000,
      client: {
        schedules: () =>
          reachable
            ? Promise.resolve({ version: 'v1', schedules: [schedule] })
            : Promise.reject(unreachable()),
        scheduleRun: (id, at) => {
          if (!reachable) return Promise.reject(unreachable())
          asked.push(`${id}@${at.toISOString()}`)
          return Promise.resolve({ job: { id: 'j', state: 'pending' }, created: true })
        },
      },
      runLocal: (s, at) => {
        local.push(`${s.id}@${at.toISOString()}`)
        return Promise.resolve()
      },
    })
  return {
    make,
    asked,
    local,
    set: (iso: string) => (now = new Date(iso)),
    down: () => (reachable = false),
  }
}

describe('Scheduler', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-scheduler-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('asks the control plane for each tick, once, from the first tick after it learned the schedule', async () => {
    const w = world(dir, '2026-12-03T10:30:00Z')
    const scheduler = w.make()
    await scheduler.load()
    await scheduler.refresh()
    await scheduler.check()
    expect(w.asked).toEqual([])
    w.set('2026-12-03T11:00:00.200Z')
    await scheduler.check()
    await scheduler.check()
    w.set('2026-12-03T12:00:00.100Z')
    await scheduler.check()
    expect(w.asked).toEqual(['s1@2026-12-03T11:00:00.000Z', 's1@2026-12-03T12:00:00.000Z'])
  })

  it('runs the tick itself when the control plane cannot be reached, from the schedules it kept', async () => {
    const w = world(dir, '2026-12-03T10:30:00Z')
    const first = w.make()
    await first.load()
    await first.refresh()
    await first.check()
    // A restart while the control plane is down: the schedules come from the disk.
    w.down()
    const second = w.make()
    await second.load()
    await second.refresh()
    expect(second.schedules).toEqual([schedule])
    w.set('2026-12-03T11:00:01Z')
    await second.check()
    await second.stop()
    expect(w.local).toEqual(['s1@2026-12-03T11:00:00.000Z'])
    expect((await readFile(join(dir, 'schedules.json'))).length).toBeGreaterThan(0)
  })

  it('gives one catch-up run for the ticks missed while the agent was down, not a burst', async () => {
    const w = world(dir, '2026-12-03T10:30:00Z')
    const before = w.make()
    await before.load()
    await before.refresh()
    await before.check()
    // Down from 10:30 to 15:20: the ticks of 11, 12, 13, 14 and 15 o'clock were missed.
    w.set('2026-12-03T15:20:00Z')
    const after = w.make()
    await after.load()
    await after.refresh()
    await after.check()
    await after.check()
    expect(w.asked).toEqual(['s1@2026-12-03T15:00:00.000Z'])
    w.set('2026-12-03T16:00:00.300Z')
    await after.check()
    expect(w.asked).toEqual(['s1@2026-12-03T15:00:00.000Z', 's1@2026-12-03T16:00:00.000Z'])
  })

  it('keeps the ticks alone when told not to keep the schedules, and still catches up', async () => {
    const w = world(dir, '2026-12-03T10:30:00Z', { keepSchedules: false })
    const before = w.make()
    await before.load()
    await before.refresh()
    await before.check()
    expect(await readdir(dir)).toEqual(['schedule-ticks.json'])
    w.set('2026-12-03T15:20:00Z')
    const after = w.make()
    await after.load()
    // Nothing to run from the disk: the schedules come from the control plane only.
    expect(after.schedules).toEqual([])
    await after.refresh()
    await after.check()
    expect(w.asked).toEqual(['s1@2026-12-03T15:00:00.000Z'])
    expect(await readdir(dir)).toEqual(['schedule-ticks.json'])
    expect(await readFile(join(dir, 'schedule-ticks.json'), 'utf8')).not.toContain('postgres://')
  })
})
