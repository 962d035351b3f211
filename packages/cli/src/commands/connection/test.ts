// `dbsnap connection test <url>`: can DBSnap reach this database, and what is there?

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import { parseDuration, type ConnectionTestResult } from '@dbsnap/engine'
import { BaseCommand } from '../../base-command.js'
import { formatBytes, keyValueLines, plural, printable, style } from '../../format.js'

const SHOWN_PRIVILEGES = 4

export default class ConnectionTest extends BaseCommand<typeof ConnectionTest> {
  static override args = {
    url: Args.string({
      description: 'connection URL: postgres://, mysql:// (or mariadb://), mongodb://',
      required: true,
    }),
  }

  static override description =
    "Connects, reads the server's metadata and disconnects; nothing is written. Prints the engine, server version, database, its size, how many tables or collections it holds, and the user the server authenticated, warning when that user holds more privilege than a snapshot needs. The password is never printed or logged."

  static override examples = [
    '<%= config.bin %> <%= command.id %> postgres://backup@db.internal:5432/shop',
    '<%= config.bin %> <%= command.id %> "mysql://backup:$MYSQL_PASSWORD@127.0.0.1:3306/shop" --timeout 5s',
    '<%= config.bin %> <%= command.id %> mongodb://127.0.0.1:27017/app --json',
  ]

  static override flags = {
    timeout: Flags.string({
      default: '10s',
      description: 'give up connecting after this long (500ms, 10s, 1m)',
    }),
  }

  static override summary = 'Check that DBSnap can connect to a database and show what it finds.'

  async run(): Promise<ConnectionTestResult> {
    // Checked here too, to name the flag in the message.
    parseDuration(this.flags.timeout, '--timeout')
    const result = await this.job(
      { kind: 'connection-test', source: this.args.url, timeout: this.flags.timeout },
      { quiet: true },
    )
    if (!this.jsonEnabled()) this.log(render(result))
    return result
  }
}

function render(result: ConnectionTestResult): string {
  const host = result.host.includes(':') ? `[${result.host}]` : result.host
  const header = `${style('green', '✔')} Connected to ${printable(`${result.product} ${result.serverVersion}`)} at ${host}:${result.port} in ${result.elapsedMs} ms`
  const objects = Object.entries(result.objects)
    .map(([kind, count]) => plural(count, kind.replace(/s$/, '')))
    .join(', ')
  const rows: [string, string][] = [
    [
      'database',
      `${printable(result.database ?? '(none: server-wide)')}${result.sizeBytes === null ? '' : ` (${formatBytes(result.sizeBytes)})`}`,
    ],
    ['objects', objects],
    [
      'user',
      `${printable(result.currentUser ?? '(not authenticated)')}${result.superuser ? style('yellow', ' (superuser)') : ''}`,
    ],
  ]
  if (result.excessPrivileges === null) {
    rows.push(['privileges', `unknown: ${result.product} does not report the user's roles`])
  } else if (result.excessPrivileges.length === 0) {
    rows.push(['privileges', 'read-only: enough for snapshots and nothing more'])
  } else {
    const shown = printable(result.excessPrivileges.slice(0, SHOWN_PRIVILEGES).join(', '))
    const more = result.excessPrivileges.length - SHOWN_PRIVILEGES
    rows.push([
      'privileges',
      style('yellow', `more than a snapshot needs: ${shown}${more > 0 ? ` and ${more} more` : ''}`),
    ])
    rows.push(['', 'a read-only account is enough; see docs/connections.md'])
  }
  return [header, ...keyValueLines(rows)].join('\n')
}
