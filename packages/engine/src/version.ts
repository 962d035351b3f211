// The engine's version, recorded in every manifest so a snapshot tells what wrote it.

import { createRequire } from 'node:module'

// By the package's own name, not `../package.json`: the `dbsnap` binary runs this module from its
// bundle, in another directory (decision 0034).
const pkg = createRequire(import.meta.url)('@dbsnap/engine/package.json') as { version: string }

export const DBSNAP_VERSION: string = pkg.version
