// A repository's `config` object (docs/snapshot-format.md, "`config`"): what the repository is
// and how it cuts and compresses, written once when it is created and checked at every open.

import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { DbsnapError } from '../errors.js'
import { DEFAULT_CHUNKING } from './chunking.js'
import { DEFAULT_CODEC, formatCodec, parseCodec, type CodecSpec } from './codec.js'
import { CONFIG_KEY } from './layout.js'
import { MAX_OBJECT_BYTES } from './object-format.js'

export const REPOSITORY_FORMAT = 1

/**
 * The largest chunk a config may ask for: a chunk cut at this size, plus the row that ends it
 * and its columnar overhead, still fits what readers accept (MAX_OBJECT_BYTES).
 */
const MAX_CHUNK_BYTES = MAX_OBJECT_BYTES / 2
const chunkBytes = z.number().int().nonnegative().max(MAX_CHUNK_BYTES)

/** A config is input like any object: every value is bounded before anything uses it. */
const configSchema = z.object({
  format: z.literal('dbsnap-repository'),
  version: z.literal(REPOSITORY_FORMAT),
  /** Random id of this repository. */
  id: z.string().regex(/^[0-9a-f]{32}$/),
  createdAt: z.iso.datetime(),
  chunking: z
    .object({
      /** Average chunk size aimed at, uncompressed canonical bytes. */
      targetBytes: chunkBytes.min(1),
      /** No cut before a chunk holds this many bytes. */
      minBytes: chunkBytes,
      /** A cut is forced once a chunk holds this many bytes. */
      maxBytes: chunkBytes.min(1),
      hash: z.literal('fnv1a32-fmix32'),
    })
    .refine((c) => c.minBytes <= c.targetBytes && c.targetBytes <= c.maxBytes, {
      message: 'expected minBytes <= targetBytes <= maxBytes',
    }),
  /** Codec for new objects unless a snapshot asks for another, e.g. `zstd:3`. */
  compression: z.string().refine(isCodec, { message: 'expected a compression DBSnap knows' }),
  /** Reserved for encryption parameters; null while the repository is not encrypted. */
  encryption: z.null(),
})

export type RepositoryConfig = z.infer<typeof configSchema>

/** The config of a new repository: a fresh id, the default chunking, `compression` or zstd. */
export function newRepositoryConfig(compression: CodecSpec = DEFAULT_CODEC): RepositoryConfig {
  return {
    format: 'dbsnap-repository',
    version: REPOSITORY_FORMAT,
    id: randomBytes(16).toString('hex'),
    createdAt: new Date().toISOString(),
    chunking: { ...DEFAULT_CHUNKING, hash: 'fnv1a32-fmix32' },
    compression: formatCodec(compression),
    encryption: null,
  }
}

/** A config as stored: pretty JSON, uncompressed, so that people can read it. */
export function encodeRepositoryConfig(config: RepositoryConfig): Buffer {
  return Buffer.from(`${JSON.stringify(config, null, 2)}\n`)
}

/**
 * The config stored at `location`, checked. Rejects with `REPOSITORY_INVALID` saying what is
 * wrong, or that the repository is of a newer format than this DBSnap reads.
 */
export function parseRepositoryConfig(bytes: Uint8Array, location: string): RepositoryConfig {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch (err) {
    throw new DbsnapError('REPOSITORY_INVALID', `${location}/${CONFIG_KEY} is not JSON`, {
      cause: err,
    })
  }
  const result = configSchema.safeParse(parsed)
  if (result.success) return result.data
  const version = (parsed as { version?: unknown } | null)?.version
  throw new DbsnapError(
    'REPOSITORY_INVALID',
    typeof version === 'number' && version > REPOSITORY_FORMAT
      ? `${location} is a repository of format ${version}; this DBSnap reads format ${REPOSITORY_FORMAT}: upgrade DBSnap`
      : `${location}/${CONFIG_KEY} is not a DBSnap repository config: ${configIssue(result.error.issues[0])}`,
    { details: { repository: location } },
  )
}

function isCodec(text: string): boolean {
  try {
    parseCodec(text)
    return true
  } catch {
    return false
  }
}

/** One problem of a config, with where it is: `chunking.maxBytes: Too big: …`. */
function configIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'invalid'
  const path = issue.path.map(String).join('.')
  return path === '' ? issue.message : `${path}: ${issue.message}`
}
