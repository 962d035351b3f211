// What the browser tests share: screenshots into test-output/web/, a page that fails the test
// on a CSP violation or an uncaught error, and the sign-in forms.

import { join } from 'node:path'
import { expect, type Page } from '@playwright/test'

const SCREENSHOTS = join(import.meta.dirname, '../../../../test-output/web')

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

/** Collects console errors and page errors; `expectClean()` fails when there were any. */
export function watchErrors(page: Page) {
  const errors: string[] = []
  page.on('console', (message) => {
    // The browser logs every 4xx answer (a 401 before a refresh, a refused sign-up); the
    // tests check what the page shows of them.
    if (message.type() === 'error' && !/^Failed to load resource/.test(message.text())) {
      errors.push(message.text())
    }
  })
  page.on('pageerror', (error) => errors.push(error.message))
  return { expectClean: () => expect(errors).toEqual([]) }
}

export async function fillCredentials(page: Page, email: string, password: string) {
  await page.getByRole('textbox', { name: 'Email', exact: true }).fill(email)
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill(password)
}

export async function signIn(page: Page, baseUrl: string, email: string, password: string) {
  await page.goto(`${baseUrl}/login`)
  await fillCredentials(page, email, password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('button', { name: `Account menu of ${email}` })).toBeVisible()
}

export const PASSWORD = 'correct horse battery staple'

/** Signs up on an instance with open registration; ends on the welcome page. */
export async function register(page: Page, baseUrl: string, email: string) {
  await page.goto(`${baseUrl}/register`)
  await fillCredentials(page, email, PASSWORD)
  await page.getByRole('button', { name: 'Create account' }).click()
  await expect(page.getByRole('heading', { name: 'Welcome to DBSnap' })).toBeVisible()
}
