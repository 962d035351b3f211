// `--tables` / `--exclude`, shared by every command that reads a subset of the tables.

import * as Flags from '@oclif/core/flags'

// Not split here: oclif's delimiter strips the double quotes that keep a name's dots and commas;
// the engine splits the list where it is outside quotes.
export const tablesFlag = Flags.string({
  description:
    'only these tables (schema.table, comma-separated; public. may be left out; * and ? glob; "double quotes" keep a name literal)',
  multiple: true,
})

export const excludeFlag = Flags.string({
  description: 'tables to leave out (schema.table, globs)',
  multiple: true,
})
