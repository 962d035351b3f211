// Projects: each belongs to one organisation and holds its connections (and, later, schedules
// and snapshots). Every read and write names the organisation, so one tenant's id used in
// another tenant's path finds nothing.

import type { Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import { translateConstraints } from '../db/constraints.js'
import { newId } from '../db/ids.js'
import type { Database, Project, Timestamp } from '../db/schema.js'
import { ControlPlaneError, notFoundError } from '../errors.js'

export interface NewProjectInput {
  orgId: string
  name: string
  slug: string
  now?: Timestamp
}

/** Creates a project; `SLUG_TAKEN` when the organisation has one with this slug. */
export async function createProject(
  db: Kysely<Database>,
  input: NewProjectInput,
): Promise<Project> {
  const project: Project = {
    id: newId(),
    orgId: input.orgId,
    name: input.name,
    slug: input.slug,
    createdAt: input.now ?? timestamp(),
    repository: null,
  }
  await translateConstraints(() => db.insertInto('projects').values(project).execute(), {
    unique: (cause) =>
      new ControlPlaneError(
        'SLUG_TAKEN',
        `the organisation already has a project ${JSON.stringify(input.slug)}`,
        {
          cause,
          details: { slug: input.slug },
        },
      ),
    'foreign-key': (cause) => notFoundError('organisation', input.orgId, cause),
  })
  return project
}

/** The project `projectId` of organisation `orgId`; undefined when it is another's. */
export async function findProject(
  db: Kysely<Database>,
  orgId: string,
  projectId: string,
): Promise<Project | undefined> {
  return db
    .selectFrom('projects')
    .selectAll()
    .where('orgId', '=', orgId)
    .where('id', '=', projectId)
    .executeTakeFirst()
}

export async function listProjects(db: Kysely<Database>, orgId: string): Promise<Project[]> {
  return db
    .selectFrom('projects')
    .selectAll()
    .where('orgId', '=', orgId)
    .orderBy('name')
    .orderBy('id')
    .execute()
}

/** What a PATCH of a project changes: its name, where its repository is (null: each agent's own). */
export interface ProjectChanges {
  name?: string
  repository?: string | null
}

/** Renames a project of `orgId` or sets its repository; `NOT_FOUND` when it is none of that organisation's. */
export async function updateProject(
  db: Kysely<Database>,
  orgId: string,
  projectId: string,
  changes: ProjectChanges,
): Promise<Project> {
  const project = await db
    .updateTable('projects')
    .set(changes)
    .where('orgId', '=', orgId)
    .where('id', '=', projectId)
    .returningAll()
    .executeTakeFirst()
  if (project === undefined) throw notFoundError('project', projectId)
  return project
}

/** Deletes a project with its connections and project keys (the database cascades). */
export async function deleteProject(
  db: Kysely<Database>,
  orgId: string,
  projectId: string,
): Promise<void> {
  const { numDeletedRows } = await db
    .deleteFrom('projects')
    .where('orgId', '=', orgId)
    .where('id', '=', projectId)
    .executeTakeFirst()
  if (numDeletedRows === 0n) throw notFoundError('project', projectId)
}
