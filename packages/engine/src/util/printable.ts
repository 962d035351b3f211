// Text from a database, a snapshot or a user made safe to show a person: the CLI's output and the
// readable (pretty) log both print names and server messages through `printable`.

/**
 * Characters a terminal or a renderer acts on instead of showing: C0 and C1 controls (ESC, CR,
 * BS, CSI \u009b…), line and paragraph separators, and bidirectional overrides and isolates.
 */
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b' }

/**
 * Text that came from a database, a snapshot or a user (names, values, server messages) made safe
 * to print: every control, separator or bidi character is shown as an escape (`\u001b`, `\r`,
 * `\u202e`), so the text cannot move the cursor, recolor, hide or reorder what a person reads.
 * The escapes are JSON's, so a printed JSON line stays valid JSON. Every human-readable output
 * passes such text through here.
 *
 * @example printable('evil\u001b[31m\r') // 'evil\\u001b[31m\\r'
 */
export function printable(text: string): string {
  return text.replace(
    UNPRINTABLE,
    (char) => SHORT_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}
