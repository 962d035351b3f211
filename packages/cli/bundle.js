// Builds the `dbsnap` binary's bundle (decision 0034; `npm run bundle`, part of `npm run build`):
// tsc's output of the CLI and the engine, with their dependencies, joined into a few modules in
// `bundle/`. Loading ~480 modules one by one took a third of a small snapshot's start-up;
// `bin/run.js` imports `bundle/main.js` instead. Commands that need a driver or the S3 client
// load their chunk when they run, as before.

import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'

const here = (path) => fileURLToPath(new URL(path, import.meta.url))

/**
 * oclif sorts the commands with `localeCompare` as it loads its configuration, on every run: the
 * first use of ICU's collation in the process, ~6 ms of a ~450 ms small snapshot. Command ids are
 * lowercase ASCII, where code-unit order is the same (`test/start-up.test.ts` checks it on every
 * id); the build fails if oclif's code changes and the line is no longer found.
 */
const oclifSortsByCodeUnit = {
  name: 'oclif-sorts-by-code-unit',
  transform(code, id) {
    if (!id.replaceAll('\\', '/').endsWith('@oclif/core/lib/config/plugin.js')) return null
    const sort = '.sort((a, b) => a.id.localeCompare(b.id))'
    if (!code.includes(sort)) throw new Error(`${id}: oclif's command sort is not "${sort}"`)
    return code.replace(sort, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))')
  },
}

await build({
  plugins: [oclifSortsByCodeUnit],
  input: {
    main: here('dist/main.js'),
    // Started by the engine's `runJob` as a worker thread, by URL next to the chunk that starts it
    // (`new URL('./job-thread.js', import.meta.url)`): the bundle's chunks share one directory.
    'job-thread': here('../engine/dist/jobs/job-thread.js'),
  },
  platform: 'node',
  external: [
    // Found at run time only when present, or native: left to Node's resolution.
    /\.node$/,
    '@napi-rs/keyring',
    'pg-native',
    // oclif loads a TypeScript compiler only for CLIs run from source, never here.
    'typescript',
    'ts-node',
    'tsx',
    // ink's React devtools, loaded only under DEV=true.
    'react-devtools-core',
    // The MongoDB driver's optional dependencies (compression, Kerberos, encryption, SOCKS…),
    // required in `try` blocks.
    'kerberos',
    'snappy',
    '@mongodb-js/zstd',
    'mongodb-client-encryption',
    'gcp-metadata',
    'socks',
    'aws4',
    '@aws-sdk/credential-providers',
  ],
  output: {
    dir: here('bundle'),
    format: 'esm',
    // ASCII only, without doc comments: Node decodes an ASCII file faster and V8 keeps its source
    // one byte a character (a single other character anywhere makes it two). Importing the
    // bundle took 7 ms less (`test/start-up.test.ts` checks every chunk stays ASCII).
    charset: 'ascii',
    comments: { legal: true, annotation: false, jsdoc: false },
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    cleanDir: true,
  },
  logLevel: 'warn',
})
