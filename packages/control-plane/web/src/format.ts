// Display helpers shared by the pages: times, user agents and slugs.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** A time the API sent (ISO-8601), in the reader's locale; `fallback` for null. */
export function formatTime(iso: string | null, fallback = '—'): string {
  return iso === null ? fallback : dateTime.format(new Date(iso))
}

/** "Chrome on Linux" from a user agent, or the raw string when it is not recognised. */
export function describeUserAgent(userAgent: string | null): string {
  if (userAgent === null || userAgent === '') return 'Unknown client'
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : undefined
  const os = /Windows/.test(userAgent)
    ? 'Windows'
    : /Mac OS X/.test(userAgent)
      ? 'macOS'
      : /Android/.test(userAgent)
        ? 'Android'
        : /Linux/.test(userAgent)
          ? 'Linux'
          : undefined
  if (browser === undefined) return userAgent
  return os === undefined ? browser : `${browser} on ${os}`
}

/** A slug proposed from a name: lower-case letters, digits and single dashes. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '')
}
