// The permission table: what each role of an organisation may do there. The one place roles
// are mapped to actions; routes name the action they need (middleware/authorize.ts).

import type { Role } from '../db/schema.js'

export const ACTIONS = [
  'org:read',
  'org:update',
  'org:delete',
  'members:read',
  'members:write',
  'projects:read',
  'projects:write',
] as const

export type Action = (typeof ACTIONS)[number]

const READ: Action[] = ['org:read', 'members:read', 'projects:read']

/**
 * Roles -> allowed actions. `read-only` sees everything of the organisation and changes
 * nothing; `member` also creates, renames and deletes projects (and, later, what is in them);
 * `admin` also manages the organisation and its members.
 */
export const PERMISSIONS: Readonly<Record<Role, readonly Action[]>> = {
  'read-only': READ,
  member: [...READ, 'projects:write'],
  admin: ACTIONS,
}

export function allows(role: Role, action: Action): boolean {
  return PERMISSIONS[role].includes(action)
}
