// The project's work in the browser, against a real control plane whose embedded agent runs the
// jobs: add a connection to a throwaway PostgreSQL database and see the agent's connection test,
// snapshot it and watch the job reach succeeded and the snapshot appear; the jobs page shows the
// job and its history; an admin creates an agent (token and commands once) and revokes it.

import { expect, test, type Page } from '@playwright/test'
import { startControlPlane, type ControlPlane } from './control-plane.ts'
import { register, screenshot, signIn, PASSWORD, watchErrors } from './helpers.ts'
import { createSourceDatabase, type SourceDatabase } from './source-database.ts'

// Sign-ups hash passwords and the agent runs real jobs: slower than the other pages' tests.
test.describe.configure({ mode: 'serial', timeout: 90_000 })

let cp: ControlPlane
let source: SourceDatabase
/** The project the first test made, which the jobs page test opens again. */
let projectPath = ''

const ROWS = 250
const EMAIL = 'grace@example.com'

test.beforeAll(async () => {
  ;[cp, source] = await Promise.all([
    startControlPlane({ openRegistration: true }),
    createSourceDatabase(ROWS),
  ])
})

test.afterAll(async () => {
  await Promise.all([cp.stop(), source.drop()])
})

async function createNamed(page: Page, dialog: string, name: string) {
  const modal = page.getByRole('dialog', { name: dialog })
  await modal.getByRole('textbox', { name: 'Name' }).fill(name)
  await modal.getByRole('button', { name: 'Create' }).click()
  await expect(modal).toBeHidden()
}

/** Signs up, creates an organisation (slugs are unique) and a project; returns its path. */
async function newProject(page: Page, email: string, org: string): Promise<string> {
  await register(page, cp.url, email)
  await page.getByRole('button', { name: 'Create an organisation' }).click()
  await createNamed(page, 'New organisation', org)
  await page.getByRole('button', { name: 'New project' }).click()
  await createNamed(page, `New project in ${org}`, 'Shop database')
  await expect(page.getByRole('heading', { name: 'Shop database' })).toBeVisible()
  return new URL(page.url()).pathname
}

test('add a connection, see its test, snapshot it and watch the job succeed', async ({ page }) => {
  const errors = watchErrors(page)
  projectPath = await newProject(page, EMAIL, 'Acme Data')

  await page.getByRole('button', { name: 'Add connection' }).click()
  const dialog = page.getByRole('dialog', { name: 'New connection' })
  await dialog.getByRole('textbox', { name: 'Name' }).fill('shop')
  await dialog.getByLabel('Connection URL').fill(source.url)
  await screenshot(page, 'connection-add')
  await dialog.getByRole('button', { name: 'Add and test' }).click()

  // The embedded agent runs the engine's test and the modal shows the server's description.
  const result = dialog.getByTestId('connection-test')
  await expect(result).toContainText('Connected', { timeout: 30_000 })
  await expect(result).toContainText('PostgreSQL')
  await expect(result).toContainText(source.name)
  await expect(result).toContainText('1 tables')
  await screenshot(page, 'connection-test')
  await dialog.getByRole('button', { name: 'Done' }).click()
  await expect(dialog).toBeHidden()

  const row = page.getByTestId('connection-row')
  await expect(row).toHaveCount(1)
  await expect(row).toContainText('postgres')
  await screenshot(page, 'connections')

  await row.getByRole('link', { name: 'shop' }).click()
  await expect(page.getByRole('heading', { name: 'shop' })).toBeVisible()
  await expect(page.getByText('No snapshot yet')).toBeVisible()
  await page.getByRole('button', { name: 'Snapshot now' }).click()

  // The job list follows the job live: pending or running, then succeeded.
  const snapshotJob = page.locator('[data-testid="job-row"][data-kind="snapshot"]')
  await expect(snapshotJob).toHaveCount(1)
  await expect(snapshotJob.getByTestId('job-state')).toHaveText('succeeded', { timeout: 45_000 })
  const snapshot = page.getByTestId('snapshot-row')
  await expect(snapshot).toHaveCount(1)
  await expect(snapshot).toContainText(ROWS.toLocaleString('en-US'))
  await expect(snapshot).toContainText('complete')
  await screenshot(page, 'connection')

  // A nightly schedule with retention: listed with its time zone, policy and next run.
  const schedules = page.getByTestId('connection-schedules')
  await expect(schedules.getByText('No schedule yet')).toBeVisible()
  await schedules.getByLabel('Cron').fill('30 2 * * *')
  await schedules.getByLabel('Time zone').fill('Europe/Paris')
  await schedules.getByRole('button', { name: 'Add schedule' }).click()
  const schedule = schedules.getByTestId('schedule-row')
  await expect(schedule).toHaveCount(1)
  await expect(schedule).toContainText('30 2 * * *')
  await expect(schedule).toContainText('Europe/Paris')
  await expect(schedule).toContainText('7')
  await schedule.getByLabel('Pause the schedule').click({ force: true })
  await expect(schedule.getByLabel('Resume the schedule')).toBeVisible()
  await screenshot(page, 'connection-schedules')
  errors.expectClean()
})

test('the jobs page shows the snapshot job succeeded, with its history', async ({ page }) => {
  const errors = watchErrors(page)
  await signIn(page, cp.url, EMAIL, PASSWORD)
  await page.goto(`${cp.url}${projectPath}`)
  await page.getByRole('link', { name: 'Jobs', exact: true }).first().click()
  await expect(page.getByRole('heading', { name: 'Jobs' })).toBeVisible()
  const rows = page.getByTestId('job-row')
  await expect(rows).toHaveCount(2)
  const snapshotJob = page.locator('[data-testid="job-row"][data-kind="snapshot"]')
  await expect(snapshotJob.getByTestId('job-state')).toHaveText('succeeded')
  await expect(snapshotJob).toContainText('shop')
  await screenshot(page, 'jobs')

  // The state filter (Mantine's segmented control: a label over each hidden radio).
  const filter = (state: string) =>
    page.locator('.mantine-SegmentedControl-root').getByText(state, { exact: true }).click()
  await filter('Failed')
  await expect(page.getByText('No failed job.')).toBeVisible()
  await filter('Succeeded')
  await expect(rows).toHaveCount(2)

  await snapshotJob.getByRole('button', { name: /^Job / }).click()
  const drawer = page.getByRole('dialog', { name: /^Job / })
  await expect(drawer.getByTestId('job-events')).toContainText('succeeded')
  await expect(drawer.getByTestId('job-events')).toContainText('leased')
  await expect(drawer).toContainText('"rows"')
  await screenshot(page, 'job-drawer')
  errors.expectClean()
})

test('a failing connection test shows its code; a connection is changed, then deleted after a confirmation; an agent is created and revoked', async ({
  page,
}) => {
  const errors = watchErrors(page)
  await newProject(page, 'linus@example.com', 'Kernel Works')

  // A database the server does not have: the agent's test fails with the engine's code.
  const missing = new URL(source.url)
  missing.pathname = `/${source.name}_missing`
  await page.getByRole('button', { name: 'Add connection' }).click()
  const dialog = page.getByRole('dialog', { name: 'New connection' })
  await dialog.getByRole('textbox', { name: 'Name' }).fill('missing')
  await dialog.getByLabel('Connection URL').fill(missing.href)
  await dialog.getByRole('button', { name: 'Add and test' }).click()
  const result = dialog.getByTestId('connection-test')
  await expect(result).toContainText('Connection test failed', { timeout: 30_000 })
  await expect(result).toContainText(/CONNECTION_[A-Z_]+/)
  await screenshot(page, 'connection-test-failed')
  await dialog.getByRole('button', { name: 'Done' }).click()

  // Pointed at the right database, the test passes.
  const row = page.getByTestId('connection-row')
  await row.getByRole('button', { name: 'Edit' }).click()
  const edit = page.getByRole('dialog', { name: 'Change “missing”' })
  await edit.getByText('URL', { exact: true }).click()
  await edit.getByLabel('Connection URL').fill(source.url)
  await edit.getByRole('button', { name: 'Save and test' }).click()
  await expect(edit.getByTestId('connection-test')).toContainText('Connected', { timeout: 30_000 })
  await edit.getByRole('button', { name: 'Done' }).click()
  await expect(row).toContainText(source.name)

  await row.getByRole('button', { name: 'Delete' }).click()
  await page
    .getByRole('dialog', { name: 'Delete “missing”?' })
    .getByRole('button', { name: 'Delete' })
    .click()
  await expect(row).toHaveCount(0)
  await expect(page.getByText('No connection yet')).toBeVisible()
  await page.getByRole('link', { name: 'Agents' }).first().click()
  await expect(page.getByRole('heading', { name: 'Agents' })).toBeVisible()
  await page.getByRole('button', { name: 'New agent' }).click()
  const agentDialog = page.getByRole('dialog', { name: 'New agent' })
  await agentDialog.getByRole('textbox', { name: 'Name' }).fill('backup-1')
  await agentDialog.getByRole('button', { name: 'Create agent' }).click()

  const commands = page.getByTestId('agent-commands')
  await expect(commands).toContainText(`dbsnap-agent register --url ${cp.url} --token dbsr_`)
  await expect(commands).toContainText('dbsnap-agent run')
  await expect(page.getByRole('button', { name: 'Copy token' })).toBeVisible()
  await screenshot(page, 'agent-token')
  await page.getByRole('button', { name: 'Done' }).click()

  const agent = page.getByTestId('agent-row')
  await expect(agent).toHaveCount(1)
  await expect(agent).toContainText('not registered')
  await expect(agent).toContainText('never')
  await screenshot(page, 'agents')

  await agent.getByRole('button', { name: 'Revoke' }).click()
  await page
    .getByRole('dialog', { name: 'Revoke “backup-1”?' })
    .getByRole('button', { name: 'Revoke' })
    .click()
  await expect(agent).toContainText('revoked')
  await expect(agent.getByRole('button', { name: 'Revoke' })).toHaveCount(0)
  await screenshot(page, 'agents-revoked')
  errors.expectClean()
})
