// The base of every `dbsnap` command: --json, logging, config, and one way of reporting errors
// (one line with a stable code on stderr, or a JSON document with --json; exit code by category).

import { Command } from '@oclif/core/command'
import * as Flags from '@oclif/core/flags'
import { ux } from '@oclif/core/ux'
import type * as Interfaces from '@oclif/core/interfaces'
import {
  DbsnapError,
  LOG_LEVELS,
  createLogger,
  holdGarbageGovernor,
  isDbsnapError,
  runJob,
  silentLogger,
  type JobKind,
  type JobResults,
  type JobSpecOf,
  type Logger,
  type RunJobOptions,
} from '@dbsnap/engine'
import { loadCliConfig, type CliConfig } from './config.js'
import { ExitCode, exitCodeFor } from './exit-codes.js'
import { printable } from './format.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

type OclifError = Error & { code?: unknown; exitCode?: number; oclif?: { exit?: number } }

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    'log-level': Flags.option({
      description:
        "How much to log on stderr; warn and lower add the engine's log lines [env: DBSNAP_LOG_LEVEL; default: error]",
      helpGroup: 'GLOBAL',
      options: LOG_LEVELS,
    })(),
  }

  static override enableJsonFlag = true

  protected args!: BaseArgs<T>
  protected settings!: CliConfig
  protected flags!: BaseFlags<T>
  protected logger: Logger = silentLogger
  /**
   * Aborted on SIGINT/SIGTERM, or when the reader of stdout goes away, so engine work stops
   * cleanly.
   */
  protected readonly abort = new AbortController()
  /** The reader of stdout went away (`dbsnap … | head`): the command ends quietly, exit 0. */
  #readerGone = false

  public override async init(): Promise<void> {
    await super.init()
    this.settings = loadCliConfig()
    const { args, flags } = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.logger = createLogger({
      name: 'dbsnap',
      level: this.flags['log-level'] ?? this.settings.DBSNAP_LOG_LEVEL,
      ...(this.settings.DBSNAP_LOG_FORMAT === undefined
        ? {}
        : { format: this.settings.DBSNAP_LOG_FORMAT }),
    })
    // Rows and buffers of any size pass through the commands: dead buffers are collected on a
    // budget, so memory stays flat (decision 0017). Held until the process ends.
    holdGarbageGovernor()
    let interrupted = false
    const onSignal = (signal: NodeJS.Signals): void => {
      // A second signal is the user insisting: stop now, without waiting for the cleanup.
      if (interrupted) forceExit(`interrupted again by ${signal}`)
      interrupted = true
      this.logger.warn({ signal }, 'interrupted')
      this.abort.abort(new DbsnapError('ABORTED', `interrupted by ${signal}`))
      // Every abort path settles on its own; should one ever not, the process still ends rather
      // than hold the repository lock for good. Unref'd: a clean stop exits before it fires.
      setTimeout(
        () =>
          forceExit(`interrupted by ${signal}; the cleanup took over ${ABORT_GRACE_MS / 1000} s`),
        ABORT_GRACE_MS,
      ).unref()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    // Like any Unix filter, a command whose reader closed the pipe stops and succeeds: there is
    // nobody left to tell anything. `bin/run.js` sends what is left to print nowhere; other stdout
    // errors stay errors (its listener and oclif's throw them).
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') return
      this.#readerGone = true
      this.abort.abort(new DbsnapError('ABORTED', 'the reader of stdout went away'))
    })
  }

  /**
   * Runs an engine job — every command that does work is one — with this command's signal and
   * logger, its progress drawn on stderr when that is a terminal (not with --json, not when
   * `quiet`).
   */
  protected async job<K extends JobKind>(
    spec: JobSpecOf<K>,
    options: Pick<RunJobOptions, 'renderDiff' | 'output'> & { quiet?: boolean } = {},
  ): Promise<JobResults[K]> {
    // ink and React are loaded only for a terminal: piped runs stay lean.
    const view =
      options.quiet !== true && !this.jsonEnabled() && process.stderr.isTTY
        ? new (await import('./ui/job-progress.js')).JobProgressView()
        : null
    try {
      return await runJob(spec, {
        signal: this.abort.signal,
        logger: this.logger,
        onEvent: view === null ? undefined : (event) => view.update(event),
        renderDiff:
          options.renderDiff === undefined
            ? undefined
            : async (diff, warnings) => {
                // The report goes to stdout as it is found: the progress view would interleave.
                view?.stop()
                await options.renderDiff!(diff, warnings)
              },
        output: options.output,
      })
    } finally {
      view?.stop()
    }
  }

  /** Warnings quote names and server messages: printed printable. */
  override warn(input: string | Error): string | Error {
    return super.warn(typeof input === 'string' ? printable(input) : input)
  }

  /**
   * The `--json` document, pretty-printed but not colorized: oclif's colorizer tokenizes with
   * regular expressions that overflow the stack on a multi-megabyte string (a MongoDB document
   * near 16 MiB in `show --json`), and what reads this output is a script.
   */
  override logJson(json: unknown): void {
    ux.stdout(JSON.stringify(json, null, 2))
  }

  // oclif awaits catch(); nothing here is asynchronous.
  // eslint-disable-next-line @typescript-eslint/require-await
  protected override async catch(err: OclifError): Promise<unknown> {
    // oclif's own exits (--help, --version, this.exit()) pass through untouched.
    if (err.code === 'EEXIT') throw err
    if (this.#readerGone) {
      process.exitCode = ExitCode.OK
      return undefined
    }
    const error = toDbsnapError(err)
    this.logger.debug({ err }, 'command failed')
    process.exitCode = exitCodeFor(error.code)
    if (this.jsonEnabled()) {
      this.logJson({ error: error.toJSON() })
    } else {
      this.logToStderr(`dbsnap: error [${error.code}]: ${printable(error.message)}`)
    }
    return undefined
  }
}

/**
 * How long an interrupted command may take to stop cleanly (a cancelled PostgreSQL COPY gets
 * 5 s to stop before its connection is dropped) before the process ends without cleanup.
 */
const ABORT_GRACE_MS = 15_000

/**
 * Ends the process at once with the ABORTED exit code. Whatever it was doing stops unfinished:
 * nothing is committed (a snapshot's manifest is written last), and a repository lock it held
 * is stale from now on, as its process is gone (docs/snapshot-format.md, "Locks").
 */
function forceExit(reason: string): never {
  process.stderr.write(`dbsnap: error [ABORTED]: ${reason}; stopped without cleanup\n`)
  process.exit(ExitCode.ABORTED)
}

/** Anything thrown in a command, as a DbsnapError; oclif's parse errors become INVALID_ARGUMENT. */
function toDbsnapError(err: OclifError): DbsnapError {
  if (isDbsnapError(err)) return err
  if (err.oclif?.exit === ExitCode.USAGE) {
    return new DbsnapError('INVALID_ARGUMENT', oneLine(err.message), { cause: err })
  }
  return new DbsnapError(
    'INTERNAL',
    `unexpected error: ${oneLine(err.message)} (run with --log-level debug for details)`,
    {
      cause: err,
    },
  )
}

/** oclif's multi-line usage messages as one line, without the trailing "See more help" hint. */
function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('See more help'))
    .join(' ')
    .replace(/\s{2,}/g, ' ')
}
