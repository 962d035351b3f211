// A project's `repository` setting, checked at the door: an absolute directory on the agents'
// machines or `s3://bucket/prefix`. Never credentials: the agent resolves those (AWS settings on
// its machine), so the setting names a place and nothing that opens it.

import { z } from '@hono/zod-openapi'

export const RepositorySettingSchema = z
  .string()
  .min(1)
  .max(1024)
  .superRefine((value, ctx) => {
    const problem = repositoryProblem(value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
  })
  .openapi({ example: 's3://backups/dbsnap/shop' })

/** Why `value` is no repository setting, or undefined when it is one. */
export function repositoryProblem(value: string): string | undefined {
  // Control characters would end up in logs and file names as they are.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'control characters are not allowed'
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    if (!value.startsWith('s3://')) return 'expected an absolute directory or s3://bucket/prefix'
    if (/^s3:\/\/[^/]*@/.test(value)) {
      return 'credentials do not belong in the setting: the agent takes them from its AWS settings'
    }
    if (/[?#]/.test(value)) return 'query strings and fragments are not supported'
    return s3Problem(value)
  }
  if (!value.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(value)) {
    return 'expected an absolute directory (the agents run in other directories) or s3://bucket/prefix'
  }
  if (value.split(/[\\/]/).includes('..')) return 'expected a directory without ".." segments'
  return undefined
}

/** The engine's rules for `s3://bucket/prefix` (storage/s3 `parseS3Url`), without loading the AWS SDK. */
function s3Problem(value: string): string | undefined {
  const [bucket = '', ...segments] = value.slice('s3://'.length).replace(/\/$/, '').split('/')
  if (
    !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) ||
    bucket.includes('..') ||
    /^\d+\.\d+\.\d+\.\d+$/.test(bucket)
  ) {
    return 'the bucket name must be 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit'
  }
  const bad = segments.some(
    (segment) => !/^[A-Za-z0-9._-]{1,255}$/.test(segment) || segment === '.' || segment === '..',
  )
  return bad
    ? 'the prefix must be "/"-separated segments of [A-Za-z0-9._-], none empty, "." or ".."'
    : undefined
}
