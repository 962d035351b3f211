// The agent's identity on disk: the control plane's URL and the credential registration gave it.
// Written atomically (a temporary file renamed into place) with mode 0600 in a 0700 directory:
// whoever reads it can act as the agent.

import { chmod, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DbsnapError, makeDirectories } from '@dbsnap/engine/core'
import { z } from 'zod'

const AgentStateSchema = z.strictObject({
  controlPlaneUrl: z.url(),
  agentId: z.string().min(1),
  projectId: z.string().min(1),
  name: z.string(),
  credential: z.string().startsWith('dbsa_'),
  registeredAt: z.string(),
})

export type AgentState = z.infer<typeof AgentStateSchema>

const FILE = 'agent.json'

export async function writeAgentState(dir: string, state: AgentState): Promise<string> {
  await makeDirectories(dir, 0o700)
  await chmod(dir, 0o700)
  const path = join(dir, FILE)
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
  await rename(temporary, path)
  return path
}

/** The stored state; `CONFIG_INVALID` when the agent has not registered or the file is damaged. */
export async function readAgentState(dir: string): Promise<AgentState> {
  const path = join(dir, FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DbsnapError(
        'CONFIG_INVALID',
        `the agent is not registered: no ${path} (run dbsnap-agent register --url … --token …)`,
      )
    }
    throw err
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  const parsed = AgentStateSchema.safeParse(json)
  if (!parsed.success) {
    throw new DbsnapError('CONFIG_INVALID', `${path} is not a valid agent state file`)
  }
  return parsed.data
}
