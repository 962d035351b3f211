// JSON values as the document diff shows them: pretty-printed as `JSON.stringify(value, null, 2)`
// does, with the lines each value spans recorded under its JSON Pointer (RFC 6901), so that the
// paths of a change's RFC 6902 patch can be found and highlighted in the text.

/** Lines are 1-based and inclusive, as Monaco counts them. */
export interface LineRange {
  start: number
  end: number
}

export interface PrettyJson {
  text: string
  /** Every value's lines by its JSON Pointer (`''` is the whole value). */
  lines: Map<string, LineRange>
}

const pointerToken = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1')

/**
 * Pretty-prints `value` and maps each JSON Pointer to its lines.
 * @example prettyJson({ a: { b: 1 } }).lines.get('/a/b') // { start: 3, end: 3 }
 */
export function prettyJson(value: unknown): PrettyJson {
  const out: string[] = []
  const lines = new Map<string, LineRange>()

  /** Writes `node` from a new line that starts with `prefix`; `suffix` ends its last line. */
  function write(node: unknown, pointer: string, indent: string, prefix: string, suffix: string) {
    const start = out.length + 1
    if (Array.isArray(node) && node.length > 0) {
      out.push(`${indent}${prefix}[`)
      node.forEach((item, i) =>
        write(item, `${pointer}/${i}`, `${indent}  `, '', i < node.length - 1 ? ',' : ''),
      )
      out.push(`${indent}]${suffix}`)
    } else if (isObject(node) && Object.keys(node).length > 0) {
      out.push(`${indent}${prefix}{`)
      const entries = Object.entries(node).filter(([, v]) => v !== undefined)
      entries.forEach(([key, item], i) =>
        write(
          item,
          `${pointer}/${pointerToken(key)}`,
          `${indent}  `,
          `${JSON.stringify(key)}: `,
          i < entries.length - 1 ? ',' : '',
        ),
      )
      out.push(`${indent}}${suffix}`)
    } else {
      out.push(`${indent}${prefix}${JSON.stringify(node) ?? 'null'}${suffix}`)
    }
    lines.set(pointer, { start, end: out.length })
  }

  write(value, '', '', '', '')
  return { text: out.join('\n'), lines }
}

/**
 * The lines of `pointer`, or of its nearest ancestor the value has (a path that exists on one
 * side only: an added key is not in the old document).
 */
export function linesOf(pretty: PrettyJson, pointer: string): LineRange | undefined {
  for (let p = pointer; ; p = p.slice(0, p.lastIndexOf('/'))) {
    const found = pretty.lines.get(p)
    if (found !== undefined || p === '') return found
  }
}

/** A stored value as JSON: the text of a JSON column or a document parsed, other values as they are. */
export function parseJsonValue(value: unknown): unknown {
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}

/** Whether a stored value holds a JSON object or array (a document, a json/jsonb value). */
export function isJsonDocument(value: unknown): boolean {
  if (typeof value !== 'string' || !/^\s*[[{]/.test(value)) return false
  const parsed = parseJsonValue(value)
  return typeof parsed === 'object' && parsed !== null
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
