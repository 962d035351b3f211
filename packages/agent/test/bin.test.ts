// The `dbsnap-agent` binary on a Node.js older than supported: one CONFIG_INVALID line, exit 2.

import { fileURLToPath } from 'node:url'
import { describeRefusalOnOlderNode } from '../../../test/older-node.js'

describeRefusalOnOlderNode(
  'dbsnap-agent',
  fileURLToPath(new URL('../bin/dbsnap-agent.js', import.meta.url)),
)
