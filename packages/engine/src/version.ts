// The engine's version, recorded in every manifest so a snapshot tells what wrote it.

import { createRequire } from 'node:module'

const pkg = createRequire(import.meta.url)('../package.json') as { version: string }

export const DBSNAP_VERSION: string = pkg.version
