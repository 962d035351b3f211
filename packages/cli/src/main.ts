// What `bin/run.js` runs, and the entry of the binary's bundle (`bundle/main.js`, decision 0034):
// oclif's executor, the trace helpers and the commands, so that one import loads them all.

export { execute } from '@oclif/core/execute'
export { newTraceId, withTraceId } from '@dbsnap/engine/trace'
export { COMMANDS } from './commands.js'
