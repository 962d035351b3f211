// Reading the queue: a project's jobs newest first, filtered and paged by cursor, and a job's
// history of events. Ids are UUIDv7, so id order is creation order and an id is a stable cursor.

import type { Kysely } from 'kysely'
import type { Database, Job, JobEvent, JobKind, JobState } from '../db/schema.js'

export interface JobFilter {
  state?: JobState | readonly JobState[]
  kind?: JobKind
  connectionId?: string
  /** Jobs created before this job id (the previous page's last id). */
  before?: string
  /** At most this many (default 50). */
  limit?: number
}

/** The project's jobs, newest first. */
export async function listJobs(
  db: Kysely<Database>,
  projectId: string,
  filter: JobFilter = {},
): Promise<Job[]> {
  const states = filter.state === undefined ? undefined : [filter.state].flat()
  return db
    .selectFrom('jobs')
    .selectAll()
    .where('projectId', '=', projectId)
    .$if(states !== undefined, (q) => q.where('state', 'in', states!))
    .$if(filter.kind !== undefined, (q) => q.where('kind', '=', filter.kind!))
    .$if(filter.connectionId !== undefined, (q) =>
      q.where('connectionId', '=', filter.connectionId!),
    )
    .$if(filter.before !== undefined, (q) => q.where('id', '<', filter.before!))
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 50)
    .execute()
}

/** What happened to a job, oldest first. */
export async function jobEvents(db: Kysely<Database>, jobId: string): Promise<JobEvent[]> {
  return db.selectFrom('jobEvents').selectAll().where('jobId', '=', jobId).orderBy('id').execute()
}
