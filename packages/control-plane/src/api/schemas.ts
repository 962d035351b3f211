// The request and response shapes shared by several routes. Request objects are strict: an
// unknown field is an INVALID_ARGUMENT, not silently dropped.

import { z } from '@hono/zod-openapi'
import type { Session, User } from '../db/schema.js'

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
