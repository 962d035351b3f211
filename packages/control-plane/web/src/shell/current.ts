// Which organisation and project the shell shows: from the URL when it names them, else the
// organisation last chosen (remembered in this browser), else the first.

import { useMatch } from 'react-router'
import { useOrgs } from '../queries.ts'

const LAST_ORG = 'dbsnap.lastOrgId'

export function rememberOrg(orgId: string): void {
  localStorage.setItem(LAST_ORG, orgId)
}

export function useCurrent() {
  const orgs = useOrgs()
  const orgMatch = useMatch('/orgs/:orgId/*')
  const projectMatch = useMatch('/orgs/:orgId/projects/:projectId/*')
  const list = orgs.data?.orgs ?? []
  const wanted = orgMatch?.params.orgId ?? localStorage.getItem(LAST_ORG)
  const org = list.find((o) => o.id === wanted) ?? (orgMatch === null ? list[0] : undefined)
  return { orgs, org, projectId: projectMatch?.params.projectId }
}
