// The diff pages in the browser, against a real control plane whose embedded agent snapshots and
// diffs real PostgreSQL, MariaDB and MongoDB (FerretDB) databases. One control plane and one set
// of databases serve every test here: the setup snapshots each database, changes it and (but for
// MariaDB, diffed against its live database) snapshots it again through the API; the tests ask
// for the diffs from the snapshot list and read them: 10,000 PostgreSQL changes paged as the list
// scrolls (first screen and frame times measured and printed), filters and search in the URL,
// keyboard navigation, a nested document field highlighted in Monaco, and axe over the pages.

import { readFile } from 'node:fs/promises'
import AxeBuilder from '@axe-core/playwright'
import { expect, test, type Page } from '@playwright/test'
import { callApi, signUp } from '../../../../test/processes.ts'
import { startControlPlane, type ControlPlane } from './control-plane.ts'
import {
  mariadbSource,
  mongoSource,
  PG_EVENTS,
  postgresSource,
  type DiffSource,
} from './diff-sources.ts'
import { PASSWORD, screenshot, signIn, watchErrors } from './helpers.ts'

test.describe.configure({ mode: 'serial', timeout: 120_000 })

const EMAIL = 'ops@example.com'
const PG_CHANGES = PG_EVENTS.removed + PG_EVENTS.modified + PG_EVENTS.added

let cp: ControlPlane
let token: string
let projectPath: string
const sources: DiffSource[] = []
/** Each engine's connection id. */
const connections = new Map<DiffSource['engine'], string>()
/** The PostgreSQL diff the first test asks for, which the next ones read. */
let pgDiffPath = ''

const api = (method: string, path: string, body?: unknown) =>
  callApi(cp.url, token, method, `${projectPath}${path}`, body)

/** Waits until a job ends and expects it succeeded; returns its result. */
async function finished(jobId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 400; i++) {
    const job = await api('GET', `/jobs/${jobId}`)
    if (!['pending', 'running'].includes(job['state'] as string)) {
      expect(job, JSON.stringify(job)).toMatchObject({ state: 'succeeded' })
      return job['result'] as Record<string, unknown>
    }
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
  throw new Error(`job ${jobId} did not end`)
}

async function snapshot(engine: DiffSource['engine']): Promise<void> {
  const job = await api('POST', `/connections/${connections.get(engine)}/snapshots`, {})
  await finished(job['id'] as string)
}

test.beforeAll(async () => {
  test.setTimeout(180_000)
  cp = await startControlPlane({ openRegistration: true })
  sources.push(...(await Promise.all([postgresSource(), mariadbSource(), mongoSource()])))
  token = await signUp(cp.url)
  const org = await callApi(cp.url, token, 'POST', '/orgs', { name: 'Acme', slug: 'acme' })
  const project = await callApi(cp.url, token, 'POST', `/orgs/${org['id'] as string}/projects`, {
    name: 'Shop',
    slug: 'shop',
  })
  projectPath = `/orgs/${org['id'] as string}/projects/${project['id'] as string}`
  for (const source of sources) {
    const made = await api('POST', '/connections', {
      name: `shop-${source.engine}`,
      url: source.url,
    })
    connections.set(source.engine, made['id'] as string)
  }
  // Before and after the change; MariaDB is diffed against its live database instead.
  await Promise.all(sources.map((source) => snapshot(source.engine)))
  await Promise.all(sources.map((source) => source.change()))
  await Promise.all(sources.filter((s) => s.engine !== 'mysql').map((s) => snapshot(s.engine)))
})

test.afterAll(async () => {
  await cp?.stop()
  await Promise.all(sources.map((source) => source.drop()))
})

async function openConnection(page: Page, engine: DiffSource['engine']) {
  await page.goto(`${cp.url}${projectPath}/connections/${connections.get(engine)}`)
  await expect(page.getByTestId('snapshot-row').first()).toBeVisible()
}

/** The diff page once its job succeeded (the page follows the job on its own). */
async function diffDone(page: Page) {
  await expect(page).toHaveURL(/\/diffs\/[^/?]+/)
  await expect(page.getByTestId('diff-summary')).toBeVisible({ timeout: 60_000 })
}

test('the snapshot list diffs a snapshot with the previous one; the page follows the job, then shows 10,000 PostgreSQL changes', async ({
  page,
}) => {
  const errors = watchErrors(page)
  await signIn(page, cp.url, EMAIL, PASSWORD)
  await openConnection(page, 'postgres')
  await expect(page.getByText('No diff yet')).toBeVisible()
  await screenshot(page, 'snapshots')
  const newest = page.getByTestId('snapshot-row').first()
  await newest.getByRole('button', { name: /^Diff / }).click()
  await page.getByRole('menuitem', { name: 'with the previous snapshot' }).click()
  await diffDone(page)
  pgDiffPath = new URL(page.url()).pathname

  await expect(page.getByTestId('diff-sides')).toContainText('shop-postgres')
  await expect(page.getByTestId('summary-added')).toContainText('4,000')
  await expect(page.getByTestId('summary-removed')).toContainText('2,001')
  await expect(page.getByTestId('summary-modified')).toContainText('4,000')
  // The schema first: the column customers gained.
  await expect(page.getByTestId('schema-change')).toContainText('public.customers.country')
  const events = page.locator('[data-testid="table-section"][data-table="public.events"]')
  await expect(events.getByTestId('change-row').first()).toContainText('removed')
  await expect(page.getByTestId('diff-command')).toHaveText(
    /^dbsnap diff [0-9a-f]{12} [0-9a-f]{12}$/,
  )
  await screenshot(page, 'diff')
  errors.expectClean()
})

test('a 10,000-change diff: first screen and scrolling to the end, measured', async ({ page }) => {
  const errors = watchErrors(page)
  await signIn(page, cp.url, EMAIL, PASSWORD)
  // When the first row (a change, a snapshot) is painted, in the page's clock (from the
  // navigation's start): noted by the page itself, not by the test's polling.
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      const rows = '[data-testid="change-row"], [data-testid="snapshot-row"]'
      if (document.querySelector(rows) === null) return
      observer.disconnect()
      requestAnimationFrame(() => {
        ;(window as { firstRowAt?: number }).firstRowAt = performance.now()
      })
    }).observe(document, { childList: true, subtree: true })
  })
  const firstRowAt = () =>
    page
      .waitForFunction(() => (window as { firstRowAt?: number }).firstRowAt)
      .then(async (t) => (await t.jsonValue()) ?? 0)
  // A page of the app that was there before, loaded the same way: what the machine gives.
  await openConnection(page, 'postgres')
  const baseline = await firstRowAt()
  const started = Date.now()
  await page.goto(`${cp.url}${pgDiffPath}`)
  const events = page.locator('[data-testid="table-section"][data-table="public.events"]')
  await expect(events.getByTestId('change-row').first()).toBeVisible()
  // Since the navigation started: the first change painted, the app's start (its scripts and
  // styles loaded), and the first page of changes.
  const firstScreen = await page.evaluate(() => {
    const [navigation] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[]
    const changes = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).find(
      (entry) => entry.name.includes('/changes?') && entry.name.includes('events'),
    )
    return {
      total: (window as { firstRowAt?: number }).firstRowAt ?? 0,
      appLoaded: navigation?.domContentLoadedEventEnd ?? 0,
      firstPageAt: changes?.responseEnd ?? 0,
      firstPageMs: changes?.duration ?? 0,
    }
  })
  const wall = Date.now() - started

  const list = events.getByTestId('change-list')
  const scroll = await list.evaluate(
    async (scroller, total) => {
      const frames: number[] = []
      let last = performance.now()
      const started = last
      await new Promise<void>((resolve) => {
        const step = () => {
          const now = performance.now()
          frames.push(now - last)
          last = now
          scroller.scrollTop += 2_400
          const end = scroller.querySelector(
            `[data-index="${total - 1}"] [data-testid="change-row"]`,
          )
          if (end !== null || now - started > 60_000) resolve()
          else requestAnimationFrame(step)
        }
        requestAnimationFrame(step)
      })
      frames.shift()
      frames.sort((a, b) => a - b)
      const at = (p: number) => frames[Math.min(frames.length - 1, Math.floor(frames.length * p))]!
      return {
        ms: performance.now() - started,
        frames: frames.length,
        p50: at(0.5),
        p95: at(0.95),
        max: frames.at(-1)!,
        over50: frames.filter((f) => f > 50).length,
      }
    },
    PG_EVENTS.removed + PG_EVENTS.modified + PG_EVENTS.added,
  )
  await expect(list.locator(`[data-index="${PG_CHANGES - 1}"]`)).toContainText('added')
  const rendered = await list.getByTestId('change-row').count()
  const pages = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((entry) => entry.name.includes('/changes?'))
      .map((entry) => entry.duration)
      .sort((a, b) => a - b),
  )

  const report = {
    firstScreenMs: Math.round(firstScreen.total),
    appLoadedMs: Math.round(firstScreen.appLoaded),
    firstPageAtMs: Math.round(firstScreen.firstPageAt),
    firstPageMs: Math.round(firstScreen.firstPageMs),
    firstScreenWallMs: wall,
    connectionPageMs: Math.round(baseline),
    scrollToEndMs: Math.round(scroll.ms),
    frames: scroll.frames,
    frameP50Ms: +scroll.p50.toFixed(1),
    frameP95Ms: +scroll.p95.toFixed(1),
    frameMaxMs: +scroll.max.toFixed(1),
    framesOver50Ms: scroll.over50,
    rowsInDom: rendered,
    pageRequests: pages.length,
    pageRequestP50Ms: Math.round(pages[Math.floor(pages.length / 2)] ?? 0),
    pageRequestMaxMs: Math.round(pages.at(-1) ?? 0),
  }
  console.log(`diff viewer, ${PG_CHANGES} changes: ${JSON.stringify(report)}`)
  test.info().annotations.push({ type: 'performance', description: JSON.stringify(report) })
  // Virtualised: a screenful of rows in the page, not ten thousand.
  expect(rendered).toBeLessThan(100)
  errors.expectClean()
})

test('filters and search find the expected rows and are in the URL; j / k move between changes', async ({
  page,
}) => {
  const errors = watchErrors(page)
  await signIn(page, cp.url, EMAIL, PASSWORD)
  await page.goto(`${cp.url}${pgDiffPath}`)
  const events = page.locator('[data-testid="table-section"][data-table="public.events"]')
  const rows = events.getByTestId('change-row')
  await expect(rows.first()).toBeVisible({ timeout: 15_000 })

  await changeFilter(page, '~ modified')
  await expect(page).toHaveURL(/[?&]type=modified/)
  await expect(rows.first()).toContainText('modified')
  await expect(rows.first()).toContainText(`id=${PG_EVENTS.removed + 1}`)
  await expect(rows.first()).toContainText('"event 2001" → "changed 2001"')

  await page.getByRole('textbox', { name: 'Search' }).fill('Changed 4321')
  await expect(page).toHaveURL(/[?&]q=Changed\+4321/)
  await expect(rows).toHaveCount(1)
  await expect(rows.first()).toContainText('id=4321')
  await expect(events.getByTestId('count-matching')).toHaveText('1 matching')

  // The link is shareable: the same rows on a fresh load.
  await page.reload()
  await expect(rows).toHaveCount(1)
  await expect(page.getByRole('textbox', { name: 'Search' })).toHaveValue('Changed 4321')
  await page.getByRole('textbox', { name: 'Search' }).fill('')
  await expect(page).not.toHaveURL(/[?&]q=/)

  await page.getByRole('combobox', { name: 'Table' }).click()
  await page.getByRole('option', { name: 'public.customers' }).click()
  await expect(page).toHaveURL(/[?&]table=public.customers/)
  await expect(page.getByTestId('table-section')).toHaveCount(1)
  await changeFilter(page, '− removed')
  const customers = page.getByTestId('change-row')
  await expect(customers).toHaveCount(1)
  await expect(customers.first()).toContainText('id=7')
  await expect(customers.first()).toContainText('email="customer7@example.com"')

  // Keyboard: j / k move the focus between changes, Enter opens the whole row.
  await page.goto(`${cp.url}${pgDiffPath}?type=modified`)
  await expect(rows.first()).toBeVisible({ timeout: 15_000 })
  await expect(page.getByTestId('keyboard-hint')).toContainText('next / previous change')
  await page.keyboard.press('j')
  await page.keyboard.press('j')
  await page.keyboard.press('j')
  await page.keyboard.press('k')
  const focused = page.locator('[role="listitem"]:focus')
  await expect(focused).toHaveAttribute('aria-posinset', '2')
  await page.keyboard.press('Enter')
  const details = focused.getByTestId('change-details')
  await expect(details).toContainText('"changed 2002"')
  await expect(details.locator('tr[data-changed="true"]')).toContainText('label')
  // The whole row, its one changed column marked.
  await expect(details.locator('tr[data-changed="true"]')).toHaveCount(1)
  await expect(details.locator('tbody tr')).toHaveCount(4)
  await screenshot(page, 'diff-keyboard')
  errors.expectClean()
})

test('a MongoDB document with a nested field changed: the path highlighted in Monaco, side by side and inline', async ({
  page,
}) => {
  const errors = watchErrors(page)
  await signIn(page, cp.url, EMAIL, PASSWORD)
  await openConnection(page, 'mongodb')
  const snapshots = page.getByTestId('snapshot-row')
  await snapshots.nth(0).getByRole('checkbox').check()
  await snapshots.nth(1).getByRole('checkbox').check()
  await page.getByRole('button', { name: 'Diff the two picked snapshots' }).click()
  await diffDone(page)
  await expect(page.getByTestId('summary-modified')).toContainText('2')

  const modified = page.getByTestId('change-row').filter({ hasText: 'modified' }).first()
  await expect(modified).toContainText('replace /doc/nested/version')
  await modified.getByRole('button', { name: /Show the whole row/ }).click()
  const document = page.getByTestId('document-diff')
  await expect(document.getByTestId('changed-paths')).toContainText('/doc/nested/version')
  await expectHighlighted(page, 'side-by-side')
  // From the top: a full-page screenshot draws the fixed header where the window is scrolled.
  await page.evaluate(() => window.scrollTo(0, 0))
  await screenshot(page, 'diff-document')

  await document.getByText('Inline', { exact: true }).click()
  await expect(document).toHaveAttribute('data-mode', 'inline')
  await expectHighlighted(page, 'inline')
  // The gutter's + and − are glyphs of Monaco's codicon font, served by the control plane: a
  // missing font draws them as boxes.
  await expect
    .poll(() =>
      page.evaluate(() => {
        let loaded = false
        window.document.fonts.forEach((font) => {
          if (font.family.replaceAll('"', '') === 'codicon' && font.status === 'loaded') {
            loaded = true
          }
        })
        return loaded
      }),
    )
    .toBe(true)
  await page.evaluate(() => window.scrollTo(0, 0))
  await screenshot(page, 'diff-inline')

  // The layout is remembered: after a reload the document opens inline.
  await page.reload()
  await diffDone(page)
  await page
    .getByTestId('change-row')
    .filter({ hasText: 'modified' })
    .first()
    .getByRole('button', { name: /Show the whole row/ })
    .click()
  await expect(page.getByTestId('document-diff')).toHaveAttribute('data-mode', 'inline')
  await expectHighlighted(page, 'inline')
  errors.expectClean()
})

/**
 * Monaco shows the changed path's line highlighted: a decoration on the line whose text holds
 * `"version"` in the new document (and, side by side, in the old one too).
 */
async function expectHighlighted(page: Page, mode: 'side-by-side' | 'inline') {
  const diff = page.locator('[data-testid="document-diff"] .monaco-diff-editor')
  const sides = mode === 'side-by-side' ? ['original', 'modified'] : ['modified']
  for (const side of sides) {
    const editor = diff.locator(`.editor.${side}`)
    await expect(editor.locator('.view-line').first()).toBeVisible()
    await expect
      .poll(() =>
        editor.evaluate((root) => {
          const top = (el: Element) => (el.closest('[style*="top"]') as HTMLElement).style.top
          const marked = [...root.querySelectorAll('.dbsnap-changed-path')].map(top)
          return [...root.querySelectorAll('.view-line')]
            .filter((line) => line.textContent?.includes('"version"'))
            .some((line) => marked.includes((line as HTMLElement).style.top))
        }),
      )
      .toBe(true)
  }
}

test('a MariaDB snapshot diffed with its live database; axe finds nothing serious on the pages', async ({
  page,
}) => {
  const errors = watchErrors(page)
  await signIn(page, cp.url, EMAIL, PASSWORD)
  await openConnection(page, 'mysql')
  await page
    .getByTestId('snapshot-row')
    .first()
    .getByRole('button', { name: /^Diff / })
    .click()
  await page.getByRole('menuitem', { name: 'with the live database' }).click()
  await diffDone(page)
  await expect(page.getByTestId('diff-sides')).toContainText('live')
  await expect(page.getByTestId('summary-added')).toContainText('1')
  await expect(page.getByTestId('summary-removed')).toContainText('1')
  await expect(page.getByTestId('summary-modified')).toContainText('2')
  const rows = page.getByTestId('change-row')
  await expect(rows.filter({ hasText: 'renamed' })).toContainText('"item 3" → "renamed"')
  await expect(rows.filter({ hasText: '/nested/version' })).toHaveCount(1)
  await expect(page.getByTestId('diff-command')).toContainText('--live')

  // Exports: the Markdown report, and the changes the filters keep as NDJSON.
  const markdown = await download(page, 'Export Markdown summary')
  expect(markdown.name).toMatch(/^diff-.+\.md$/)
  expect(markdown.text).toContain('"item 3" → "renamed"')
  await changeFilter(page, '~ modified')
  const ndjson = await download(page, 'Export changes (NDJSON)')
  const lines = ndjson.text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { change: string })
  expect(lines.map((line) => line.change)).toEqual(['modified', 'modified'])
  await screenshot(page, 'diff-mariadb')
  await expectAccessible(page)

  await openConnection(page, 'mysql')
  await expect(page.getByTestId('diff-row')).toHaveCount(1)
  await expectAccessible(page)
  await screenshot(page, 'connection-diffs')
  await page.goto(`${cp.url}${pgDiffPath}`)
  await expect(page.getByTestId('change-row').first()).toBeVisible()
  await expectAccessible(page)
  errors.expectClean()
})

/** Picks a change type in the page's filter. */
function changeFilter(page: Page, label: string) {
  return page.getByRole('radiogroup', { name: 'Change' }).getByText(label, { exact: true }).click()
}

/** Clicks an export button; returns the downloaded file's name and text. */
async function download(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: button }).click(),
  ])
  const path = await file.path()
  return { name: file.suggestedFilename(), text: await readFile(path, 'utf8') }
}

async function expectAccessible(page: Page) {
  const { violations } = await new AxeBuilder({ page }).analyze()
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
  ).toEqual([])
}
