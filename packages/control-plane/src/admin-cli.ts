// `dbsnap-control-plane admin create --email <address>`: makes an instance administrator from a
// shell, the same as the first-run setup link. The password is never an argument (it would sit
// in the shell's history and in `ps`): it is read from standard input, one line, or asked for
// without echo when standard input is a terminal.

import { parseArgs } from 'node:util'
import { createInstanceAdmin } from './data/setup.js'
import type { ControlPlaneDb } from './db/database.js'
import { ControlPlaneError } from './errors.js'
import { hashPassword } from './identity/passwords.js'

export const ADMIN_USAGE = 'usage: dbsnap-control-plane admin create --email <address>'

/** The email of `admin create --email …`; CONFIG_INVALID for anything else (a password argument too). */
export function parseAdminArgs(args: readonly string[]): { email: string } {
  try {
    const { positionals, values } = parseArgs({
      args: [...args],
      options: { email: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    })
    if (positionals.length === 1 && positionals[0] === 'create' && values.email !== undefined) {
      return { email: values.email }
    }
  } catch {
    // An unknown option (`--password`): the usage says what is accepted.
  }
  throw new ControlPlaneError('CONFIG_INVALID', `${ADMIN_USAGE} (the password is read from stdin)`)
}

export async function createAdminFromShell(
  db: ControlPlaneDb,
  email: string,
  input: NodeJS.ReadStream = process.stdin,
): Promise<string> {
  const password = input.isTTY ? await promptHidden(input, 'password: ') : await firstLine(input)
  const user = await createInstanceAdmin(db.db, {
    email,
    passwordHash: await hashPassword(password, { email }),
  })
  return user.id
}

async function firstLine(input: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  for await (const chunk of input) {
    text += String(chunk)
    if (text.includes('\n')) break
  }
  return text.split(/\r?\n/)[0] ?? ''
}

/** Reads a line from the terminal in raw mode, echoing nothing. */
function promptHidden(input: NodeJS.ReadStream, prompt: string): Promise<string> {
  process.stderr.write(prompt)
  input.setRawMode(true)
  input.resume()
  return new Promise((resolve, reject) => {
    let line = ''
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done()
          resolve(line)
          return
        }
        if (ch === '\u0003') {
          done()
          reject(new ControlPlaneError('CONFIG_INVALID', 'cancelled'))
          return
        }
        line = ch === '\u007f' ? line.slice(0, -1) : line + ch
      }
    }
    const done = (): void => {
      input.off('data', onData)
      input.setRawMode(false)
      input.pause()
      process.stderr.write('\n')
    }
    input.on('data', onData)
  })
}
