// Running DBSnap's binaries on a Node.js older than they support (packages/engine/src/supported-node.ts).

import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { NODE_MINIMUM, unsupportedNode } from '@dbsnap/engine/supported-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** A Node.js older than DBSnap supports, installed on this machine (Debian's own), if any. */
export function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue
    const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim()
    if (unsupportedNode(version.slice(1)) !== null) return candidate
  }
  return undefined
}

/**
 * The environment that makes this Node.js report `version` as its own (`process.versions.node`),
 * through a module `--import`ed first, written into `dir`.
 */
export async function posingAsNode(dir: string, version: string): Promise<Record<string, string>> {
  const file = join(dir, `node-${version}.mjs`)
  const versions = `{ ...process.versions, node: ${JSON.stringify(version)} }`
  await writeFile(file, `Object.defineProperty(process, 'versions', { value: ${versions} })\n`)
  return { NODE_OPTIONS: `--import=${pathToFileURL(file).href}` }
}

/**
 * Runs `node ...args`; the exit code and both outputs, whatever the exit code. A program that
 * does not stop within 20 s (one that started instead of refusing to) is killed: status null.
 */
export function runNode(
  node: string,
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(node, args, {
      encoding: 'utf8',
      stdio: 'pipe',
      timeout: 20_000,
      env: { ...process.env, ...env },
    })
    return { status: 0, stdout, stderr: '' }
  } catch (err) {
    const { status, stdout, stderr } = err as {
      status: number | null
      stdout: string
      stderr: string
    }
    return { status, stdout, stderr }
  }
}

/**
 * Tests that the `program` binary at `bin`, run without arguments on an older Node.js (this one
 * posing as older, and the machine's own older one when there is one), refuses to start with one
 * CONFIG_INVALID line and exit 2.
 */
export function describeRefusalOnOlderNode(program: string, bin: string): void {
  describe(`${program} on an older Node.js`, () => {
    const refused = new RegExp(
      `^${program}: error \\[CONFIG_INVALID\\]: ${program} needs Node\\.js \\d+\\.\\d+ or newer, ` +
        'and this is Node\\.js v[\\d.]+ \\(.+\\): put a newer node first on the PATH\n$',
    )
    let scratch: string

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), `dbsnap-it-${program}-`))
    })
    afterAll(async () => {
      await rm(scratch, { recursive: true, force: true })
    })

    it('refuses to start with CONFIG_INVALID (exit 2)', async () => {
      const { major, minor } = NODE_MINIMUM
      const env = await posingAsNode(scratch, `${major}.${minor - 1}.0`)
      const run = runNode(process.execPath, [bin], env)
      expect(run.status).toBe(2)
      expect(run.stdout).toBe('')
      expect(run.stderr).toMatch(refused)
    })

    // The real thing: the check comes before anything an older Node cannot even link.
    const node = olderNode()
    it.runIf(node !== undefined)(`says so under a real older Node (${node})`, () => {
      const run = runNode(node!, [bin])
      expect(run.status).toBe(2)
      expect(run.stderr).toMatch(refused)
    })
  })
}
