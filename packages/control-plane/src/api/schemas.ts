// The request and response shapes shared by several routes. Request objects are strict: an
// unknown field is an INVALID_ARGUMENT, not silently dropped.

import { z } from '@hono/zod-openapi'
import { SCOPES } from '../authz/permissions.js'
import { scopesOf } from '../data/api-keys.js'
import type { ApiKey, Org, Project, Role, Session, User } from '../db/schema.js'

export const EmailSchema = z
  .email()
  .max(254)
  .openapi({ example: 'ada@example.com', description: 'Compared case-insensitively' })

export const CredentialsSchema = z
  .strictObject({
    email: EmailSchema,
    /** The rules (8 to 128 characters) are checked on register; a login takes what it is given. */
    password: z.string().min(1).max(1024).openapi({ example: 'correct horse battery staple' }),
  })
  .openapi('Credentials')

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    emailVerifiedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('User')

export const SessionSchema = z
  .object({
    id: z.string(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    createdAt: z.string(),
    lastSeenAt: z.string(),
    expiresAt: z.string(),
    /** True for the session the request was made with. */
    current: z.boolean(),
  })
  .openapi('Session')

export const TokensSchema = z
  .object({
    accessToken: z.string().openapi({ description: 'JWT for `Authorization: Bearer`' }),
    /** Seconds the access token is valid for. */
    expiresIn: z.number().int(),
    refreshToken: z
      .string()
      .optional()
      .openapi({ description: 'Opaque; single use. Absent when it travels in a cookie only.' }),
  })
  .openapi('Tokens')

export function userView(user: User): z.infer<typeof UserSchema> {
  return {
    id: user.id,
    email: user.email,
    emailVerifiedAt: user.emailVerifiedAt,
    createdAt: user.createdAt,
  }
}

export function sessionView(session: Session, currentId: string): z.infer<typeof SessionSchema> {
  return {
    id: session.id,
    ip: session.ip,
    userAgent: session.userAgent,
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    expiresAt: session.expiresAt,
    current: session.id === currentId,
  }
}

/** A display name: any characters but control characters (stored and shown as given). */
export const NameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
  .openapi({ example: 'Acme Data Platform' })

/** Lower-case letters, digits and dashes, 1 to 63, not starting or ending with a dash. */
export const SlugSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lower-case letters, digits and dashes')
  .openapi({ example: 'acme' })

export const RoleSchema = z.enum(['admin', 'member', 'read-only']).openapi('Role')

export const IdParam = z.string().min(1).max(64)

export const OrgSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    createdAt: z.string(),
    /** The caller's role in it. */
    role: RoleSchema,
  })
  .openapi('Org')

export const ProjectSchema = z
  .object({
    id: z.string(),
    orgId: z.string(),
    name: z.string(),
    slug: z.string(),
    createdAt: z.string(),
    /** Where the project's agents keep snapshots: a directory on their machine or `s3://bucket/prefix`; null: each agent's DBSNAP_AGENT_REPOSITORY. */
    repository: z.string().nullable(),
  })
  .openapi('Project')

export const MemberSchema = z
  .object({ userId: z.string(), email: z.string(), role: RoleSchema, createdAt: z.string() })
  .openapi('Member')

export function orgView(org: Org, role: Role): z.infer<typeof OrgSchema> {
  return { id: org.id, name: org.name, slug: org.slug, createdAt: org.createdAt, role }
}

export function projectView(project: Project): z.infer<typeof ProjectSchema> {
  return {
    id: project.id,
    orgId: project.orgId,
    name: project.name,
    slug: project.slug,
    createdAt: project.createdAt,
    repository: project.repository,
  }
}

export const ScopeSchema = z.enum(SCOPES).openapi('Scope')

export const ApiKeySchema = z
  .object({
    id: z.string(),
    /** The key's public start (`dbs_` and 12 characters), shown in lists to tell keys apart. */
    prefix: z.string(),
    name: z.string(),
    scopes: z.array(ScopeSchema),
    /** The project the key is limited to; null for the whole organisation. */
    projectId: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    /** The key this one replaced (rotation). */
    rotatedFromId: z.string().nullable(),
  })
  .openapi('ApiKey')

export function apiKeyView(key: ApiKey): z.infer<typeof ApiKeySchema> {
  return {
    id: key.id,
    prefix: key.prefix,
    name: key.name,
    // Stored scopes were validated against SCOPES when the key was made.
    scopes: scopesOf(key) as z.infer<typeof ScopeSchema>[],
    projectId: key.projectId,
    createdBy: key.createdBy,
    createdAt: key.createdAt,
    expiresAt: key.expiresAt,
    lastUsedAt: key.lastUsedAt,
    revokedAt: key.revokedAt,
    rotatedFromId: key.rotatedFromId,
  }
}
