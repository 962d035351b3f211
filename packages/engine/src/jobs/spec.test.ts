import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { JOB_KINDS, parseJobSpec } from './spec.js'

/** The JSON blocks of docs/architecture.md's "Jobs" section that follow `heading`. */
function documented(heading: string): unknown[] {
  const doc = readFileSync(new URL('../../../../docs/architecture.md', import.meta.url), 'utf8')
  const after = doc.slice(doc.indexOf(heading))
  const block = /```json\n([\s\S]*?)```/.exec(after)![1]!
  return JSON.parse(`[${block.replace(/\}\n\{/g, '},\n{')}]`) as unknown[]
}

describe('job specs', () => {
  it('the documented examples are valid specs, one of each kind at least', () => {
    const specs = documented('Specs, one of each kind').map(parseJobSpec)
    expect(new Set(specs.map((s) => s.kind))).toEqual(new Set(JOB_KINDS))
  })

  it('the documented event has the envelope', () => {
    const [event] = documented('An event')
    expect(Object.keys(event as object).sort()).toEqual(
      ['counters', 'done', 'elapsedMs', 'kind', 'phase', 'table', 'total', 'unit'].sort(),
    )
  })

  it('names every bad field at once', () => {
    expect(() =>
      parseJobSpec({ kind: 'restore', repository: '', snapshot: 1, target: 'x', mode: 'merge' }),
    ).toThrow(/invalid restore job: .*repository.*snapshot.*mode/)
  })

  it('refuses what is not an object', () => {
    expect(() => parseJobSpec(null)).toThrow(/INVALID|invalid a job/)
    expect(() => parseJobSpec('snapshot')).toThrow(/invalid a job/)
  })

  it('keeps durations, codecs and subsets as written, checked', () => {
    expect(parseJobSpec({ kind: 'prune', repository: 'r', grace: '90m' })).toEqual({
      kind: 'prune',
      repository: 'r',
      grace: '90m',
    })
    expect(() =>
      parseJobSpec({ kind: 'forget', repository: 'r', policy: { keepWithin: 'a month' } }),
    ).toThrow(/policy.keepWithin/)
  })
})
