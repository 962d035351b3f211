import { readFile, writeFile } from 'node:fs/promises'
import type { JobSpec } from '@dbsnap/engine'
import { describe, expect, it } from 'vitest'
import { ControlPlaneCallError, type LeasedJob } from './control-plane-client.js'
import { prepareJob } from './export-upload.js'

const leased = {
  job: { id: 'j1', leaseId: 'l1' },
} as LeasedJob
const exportSpec: JobSpec = { kind: 'export', repository: '/r', snapshot: 'ab12', format: 'sql' }

describe('prepareJob', () => {
  it('leaves other jobs alone', async () => {
    const spec: JobSpec = { kind: 'verify', repository: '/r' }
    const prepared = await prepareJob(leased, spec, { client: {} as never })
    expect(prepared.spec).toBe(spec)
    expect(await prepared.finish({ ok: 1 })).toEqual({ ok: 1 })
  })

  it('exports to a temporary file and streams it to the control plane from a local repository', async () => {
    const sent: string[] = []
    const prepared = await prepareJob(leased, exportSpec, {
      client: {
        exportLink: () => Promise.reject(new Error('not on S3')),
        uploadExport: async (jobId, leaseId, file) => {
          sent.push(`${jobId} ${leaseId} ${await file.text()}`)
        },
      },
    })
    const out = (prepared.spec as { out: string }).out
    expect(out).toMatch(/export\.sql$/)
    await writeFile(out, 'COPY …')
    expect(await prepared.finish({ rows: 1, out })).toEqual({ rows: 1, out: 'control-plane' })
    expect(sent).toEqual(['j1 l1 COPY …'])
    await prepared.cleanup()
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('fails as the export’s storage when the control plane refuses the file', async () => {
    const prepared = await prepareJob(leased, exportSpec, {
      client: {
        exportLink: () => Promise.resolve(),
        uploadExport: () =>
          Promise.reject(new ControlPlaneCallError(413, 'PAYLOAD_TOO_LARGE', 'too large')),
      },
    })
    const out = (prepared.spec as { out: string }).out
    await writeFile(out, 'x')
    await expect(prepared.finish({})).rejects.toMatchObject({
      code: 'STORAGE_FULL',
      retryable: false,
    })
    await prepared.cleanup()
  })
})
