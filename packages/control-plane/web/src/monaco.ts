// Monaco, bundled by Vite and served by the control plane like the rest of the web view (no
// CDN: it works offline). Imported only when a document diff is shown, so the app's main chunk
// stays small. Its diff worker is a Vite `?worker` chunk from 'self'. JSON is coloured by a small
// Monarch grammar rather than Monaco's JSON language service (1.6 MB with its worker), which
// validates and completes what a read-only diff never edits.
//
// The page's CSP allows `<style>` elements only with the response's nonce; Monaco creates its
// own (theme colours, decorations), so every `<style>` the page's code creates gets the nonce,
// as Mantine's do. Script on the page could read the nonce anyway: it guards against injected
// markup, which this does not let in.

import EditorWorker from 'monaco-editor/editor/editor.worker?worker'
import * as monaco from 'monaco-editor/editor/editor.api'
// The codicon font (the diff gutter's + and − signs, the editor's widgets): `editor.api` alone
// brings no `@font-face`, and each sign would show as a missing-glyph box.
import 'monaco-editor/features/codicon/register'
import { styleNonce } from './csp-nonce.ts'

declare global {
  interface Window {
    MonacoEnvironment?: { getWorker(workerId: string, label: string): Worker }
  }
}

window.MonacoEnvironment = { getWorker: () => new EditorWorker() }

const nonce = styleNonce()
// eslint-disable-next-line @typescript-eslint/unbound-method -- the proxy calls it with its `this`
document.createElement = new Proxy(document.createElement, {
  apply(create, thisArg, args) {
    const element: unknown = Reflect.apply(create, thisArg, args)
    if (element instanceof HTMLStyleElement) element.nonce = nonce
    return element
  },
})

monaco.languages.register({ id: 'json' })
monaco.languages.setMonarchTokensProvider('json', {
  tokenizer: {
    root: [
      [/"(?:[^"\\]|\\.)*"(?=\s*:)/, 'type'],
      [/"(?:[^"\\]|\\.)*"/, 'string'],
      [/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/, 'number'],
      [/\b(?:true|false|null)\b/, 'keyword'],
      [/[{}[\],:]/, 'delimiter'],
    ],
  },
})

export { monaco }
