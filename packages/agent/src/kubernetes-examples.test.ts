// The Kubernetes examples (examples/kubernetes) parse as YAML and agree with the code: the agent's
// settings exist and are valid, the probes name the health server's paths, the scalers target the
// Deployment and read the control plane's metric and route.

import { readFile, readdir } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { loadAgentConfig } from './config.js'

const dir = new URL('../../../examples/kubernetes/', import.meta.url)

interface Manifest {
  apiVersion?: string
  kind?: string
  metadata?: { name?: string }
  spec?: Record<string, unknown>
  [key: string]: unknown
}

async function manifests(file: string): Promise<Manifest[]> {
  const docs = parseAllDocuments(await readFile(new URL(file, dir), 'utf8'))
  return docs.map((doc) => {
    expect(doc.errors, file).toEqual([])
    return doc.toJS() as Manifest
  })
}

const byKind = (docs: Manifest[], kind: string) => docs.filter((d) => d.kind === kind)

describe('the Kubernetes examples', () => {
  it('parse, every document a Kubernetes object (but the Prometheus fragment)', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml'))
    expect(files.sort()).toEqual([
      'agent.yaml',
      'hpa.yaml',
      'keda-scaledobject.yaml',
      'prometheus-scrape.yaml',
    ])
    for (const file of files.filter((f) => f !== 'prometheus-scrape.yaml')) {
      for (const doc of await manifests(file)) {
        expect(doc.apiVersion, file).toMatch(/^[a-z.]*\/?v\d/)
        expect(doc.kind, file).toMatch(/^[A-Z]/)
        expect(doc.metadata?.name, file).toMatch(/^[a-z0-9-]+$/)
      }
    }
    const [scrape] = await manifests('prometheus-scrape.yaml')
    expect((scrape!['scrape_configs'] as unknown[]).length).toBe(2)
  })

  it('run the agent with valid settings, probes on /livez and /readyz, and its state 0600', async () => {
    const docs = await manifests('agent.yaml')
    const [deployment] = byKind(docs, 'Deployment')
    const pod = (deployment!.spec!['template'] as { spec: PodSpec }).spec
    const agent = pod.containers.find((c) => c.name === 'agent')!
    const env = Object.fromEntries(agent.env.map((e) => [e.name, e.value]))
    const config = loadAgentConfig(env)
    expect(config.DBSNAP_AGENT_HEALTH_PORT).toBe(8081)
    expect(config.DBSNAP_AGENT_HEALTH_HOST).toBe('0.0.0.0')
    expect(agent.livenessProbe.httpGet.path).toBe('/livez')
    expect(agent.readinessProbe.httpGet.path).toBe('/readyz')
    expect(
      agent.ports.find((p) => p.name === agent.livenessProbe.httpGet.port)?.containerPort,
    ).toBe(8081)
    expect(pod.initContainers[0]!.command.join(' ')).toContain('chmod 600')
    const secret = JSON.parse(
      (byKind(docs, 'Secret')[0]!['stringData'] as Record<string, string>)['agent.json']!,
    ) as Record<string, unknown>
    expect(Object.keys(secret).sort()).toEqual(
      ['agentId', 'controlPlaneUrl', 'credential', 'name', 'projectId', 'registeredAt'].sort(),
    )
  })

  it('scale the Deployment on the desired-agent gauge or the admin queue route', async () => {
    const [deployment] = byKind(await manifests('agent.yaml'), 'Deployment')
    const name = deployment!.metadata!.name
    const keda = byKind(await manifests('keda-scaledobject.yaml'), 'ScaledObject')
    expect(keda).toHaveLength(2)
    for (const scaled of keda) {
      expect((scaled.spec!['scaleTargetRef'] as { name: string }).name).toBe(name)
    }
    const triggers = keda.flatMap(
      (s) => s.spec!['triggers'] as { type: string; metadata: Record<string, string> }[],
    )
    expect(triggers.find((t) => t.type === 'prometheus')?.metadata['query']).toContain(
      'dbsnap_cp_desired_agents{project=',
    )
    const api = triggers.find((t) => t.type === 'metrics-api')!.metadata
    expect(new URL(api['url']!).pathname).toBe('/api/v1/admin/queue')
    expect(api['valueLocation']).toBe('desiredAgents.total')
    const [hpa] = byKind(await manifests('hpa.yaml'), 'HorizontalPodAutoscaler')
    expect((hpa!.spec!['scaleTargetRef'] as { name: string }).name).toBe(name)
    expect(JSON.stringify(hpa!.spec!['metrics'])).toContain('"name":"dbsnap_cp_desired_agents"')
  })
})

interface PodSpec {
  initContainers: { command: string[] }[]
  containers: {
    name: string
    env: { name: string; value: string }[]
    ports: { name: string; containerPort: number }[]
    livenessProbe: { httpGet: { path: string; port: string } }
    readinessProbe: { httpGet: { path: string; port: string } }
  }[]
}
