// The `dbsnap-control-plane` binary on a Node.js older than supported: one CONFIG_INVALID line, exit 2.

import { fileURLToPath } from 'node:url'
import { describeRefusalOnOlderNode } from '../../../test/older-node.js'

describeRefusalOnOlderNode(
  'dbsnap-control-plane',
  fileURLToPath(new URL('../bin/dbsnap-control-plane.js', import.meta.url)),
)
