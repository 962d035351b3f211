// The permission table: what each role of an organisation may do there, and which of those
// actions an API key can be granted (its scopes). The one place roles and scopes are mapped to
// actions; routes name the action they need (middleware/authorize.ts).

import type { Role } from '../db/schema.js'

export const ACTIONS = [
  'org:read',
  'org:update',
  'org:delete',
  'members:read',
  'members:write',
  'projects:read',
  'projects:write',
  'keys:read',
  'keys:write',
  'audit:read',
  'connections:read',
  'connections:write',
  'snapshots:read',
  'snapshots:write',
  'snapshots:export',
  'snapshots:forget',
  'snapshots:restore',
  'diffs:read',
  'diffs:write',
  'jobs:read',
  'jobs:write',
  'jobs:redrive',
  'agents:read',
  'agents:write',
  'queue:read',
] as const

export type Action = (typeof ACTIONS)[number]

const READ: Action[] = [
  'org:read',
  'members:read',
  'projects:read',
  'connections:read',
  'snapshots:read',
  'diffs:read',
  'jobs:read',
  'agents:read',
]

/**
 * Roles -> allowed actions. `read-only` sees the organisation's objects and changes nothing;
 * `member` also creates, renames and deletes projects and what is in them, triggers and cancels
 * jobs, exports snapshots and applies retention, and manages the API keys it created; `admin` also
 * manages the organisation, its members, every key, the agents, the dead-letter queue, restores
 * snapshots into databases, reads the audit log and the queue's depth (GET /admin/queue, for a
 * scaler).
 */
export const PERMISSIONS: Readonly<Record<Role, readonly Action[]>> = {
  'read-only': READ,
  member: [
    ...READ,
    'projects:write',
    'connections:write',
    'snapshots:write',
    'snapshots:export',
    'snapshots:forget',
    'diffs:write',
    'jobs:write',
    'keys:read',
    'keys:write',
  ],
  admin: ACTIONS,
}

export function allows(role: Role, action: Action): boolean {
  return PERMISSIONS[role].includes(action)
}

/**
 * The actions an API key can be granted, as its scopes. Keys are for scripts and agents working
 * on data: managing the organisation, its members, its keys and its audit log takes a person.
 * A key's request needs the route's action among its scopes *and* allowed by its creator's
 * current role, so a key never does more than the person who made it. Restoring into a database
 * is no scope either: it overwrites data, so it takes an admin in person (decision 0032).
 */
export const SCOPES = [
  'org:read',
  'projects:read',
  'projects:write',
  'connections:read',
  'connections:write',
  'snapshots:read',
  'snapshots:write',
  'snapshots:export',
  'snapshots:forget',
  'diffs:read',
  'diffs:write',
  'jobs:read',
  'jobs:write',
  'queue:read',
] as const satisfies readonly Action[]

export type Scope = (typeof SCOPES)[number]

export function isScope(action: string): action is Scope {
  return (SCOPES as readonly string[]).includes(action)
}
