#!/usr/bin/env node
// Only the Node.js version check is imported statically: on an older Node, what the program
// loads would fail with a stack trace before a word of explanation.
import { requireSupportedNode } from '@dbsnap/engine/supported-node'

requireSupportedNode('dbsnap-control-plane')
const { main } = await import('../dist/main.js')
await main()
