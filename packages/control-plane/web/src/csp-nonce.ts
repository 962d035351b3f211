// The CSP nonce the server put in index.html (src/web-assets.ts fills it in for each response):
// the page's `<style>` elements carry it.

export function styleNonce(): string {
  return document.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]')?.nonce ?? ''
}
