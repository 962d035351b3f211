// JSON read from storage is input: text that does not parse is `undefined`, which the zod schema
// it is checked against then refuses with the caller's own error.

/** `JSON.parse(text)`, or undefined when `text` is not JSON. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
