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

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** Bytes in binary units: `1.5 MiB`. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '—'
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${BYTE_UNITS[unit]}`
}

/** A duration: `850 ms`, `4.2 s`, `3 min 5 s`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const seconds = Math.round(ms / 1000)
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`
}

/** The time between two API times, or `—` while the second is not there yet. */
export function durationBetween(from: string | null, to: string | null): string {
  return from === null || to === null ? '—' : formatDuration(Date.parse(to) - Date.parse(from))
}

const integer = new Intl.NumberFormat()

export function formatCount(n: number | null): string {
  return n === null ? '—' : integer.format(n)
}
