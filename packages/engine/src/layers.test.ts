// The engine's layering, checked on every test run: each folder of src/ sits on a layer, imports
// point only down (or sideways within a layer), folders import each other in no cycle, and no
// file grows past MAX_LINES without saying why at its top. docs/architecture.md draws the layers.

import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const SRC = dirname(fileURLToPath(import.meta.url))

/**
 * The layers, bottom first. A folder of src/ (or a file at its top, by its name without `.ts`)
 * may import its own layer and those below. The entry points (`index.ts` and the subpath
 * exports) sit above everything.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['util', 'errors', 'logger', 'trace', 'version', 'config', 'supported-node'],
  ['storage'],
  ['canonical'],
  ['schema'],
  ['connection'],
  ['repository'],
  ['adapters'],
  ['snapshot', 'diff', 'restore', 'verify', 'retention', 'export'],
  ['jobs'],
  ['index', 'core', 'testing'],
]

/**
 * Folder cycles known today, each with what ends it. An entry that no longer holds fails the
 * test, so that it is removed.
 */
const KNOWN_CYCLES: Record<string, string> = {}

/** Lines a file may have before it must say why at its top. */
const MAX_LINES = 600

/** What a long file's first lines say to be allowed: `// Over 600 lines: <why>`. */
const LONG_FILE_REASON = /^\/\/ Over \d+ lines: \S/m

/**
 * Files over MAX_LINES being split now, each with the split that brings it under. An entry for a
 * file that is gone or short fails the test, so that it is removed.
 */
const LONG_FILES: Record<string, string> = {}

interface SourceFile {
  /** Path under src/, `/`-separated. */
  path: string
  text: string
}

function sourceFiles(dir = SRC): SourceFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    if (!/\.tsx?$/.test(entry.name)) return []
    return [{ path: relative(SRC, full).split(sep).join('/'), text: readFileSync(full, 'utf8') }]
  })
}

/** A file's unit of layering: its top folder under src/, or its own name at the top. */
function unitOf(path: string): string {
  const [first, ...rest] = path.split('/')
  return rest.length > 0 ? first! : first!.replace(/\.tsx?$/, '')
}

const isTest = (path: string): boolean => /\.test\.tsx?$/.test(path)

/** What a file imports (static, re-exported, dynamic): src/ files by path, and packages. */
function importsOf(file: SourceFile): string[] {
  return ts
    .preProcessFile(file.text, true, true)
    .importedFiles.map((imported) => imported.fileName)
    .map((name) => {
      if (!name.startsWith('.')) return name
      const target = resolve(SRC, dirname(file.path), name).replace(/\.js$/, '.ts')
      return relative(SRC, target).split(sep).join('/')
    })
}

/** Whether an import names a src/ file (`storage/storage.ts`), not a package (`pg`). */
const isSourceFile = (target: string): boolean => /\.tsx?$/.test(target)

/** The packages `entry` reaches through src/ files, lazily loaded ones (`import()`) too. */
function packagesReached(files: SourceFile[], entry: string): Set<string> {
  const byPath = new Map(files.map((file) => [file.path, file]))
  const seen = new Set<string>()
  const packages = new Set<string>()
  const visit = (path: string): void => {
    if (seen.has(path)) return
    seen.add(path)
    for (const target of importsOf(byPath.get(path)!)) {
      if (isSourceFile(target)) visit(target)
      else packages.add(target)
    }
  }
  visit(entry)
  return packages
}

const layerOf = new Map(LAYERS.flatMap((units, layer) => units.map((unit) => [unit, layer])))

/** The folder graph's cycles: each set of folders that import each other, as `a <-> b`. */
function folderCycles(edges: Map<string, Set<string>>): string[] {
  // Tarjan's strongly connected components; a component of two or more units holds a cycle.
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[] = []
  const visit = (unit: string): void => {
    index.set(unit, index.size)
    low.set(unit, index.get(unit)!)
    stack.push(unit)
    onStack.add(unit)
    for (const next of edges.get(unit) ?? []) {
      if (!index.has(next)) {
        visit(next)
        low.set(unit, Math.min(low.get(unit)!, low.get(next)!))
      } else if (onStack.has(next)) {
        low.set(unit, Math.min(low.get(unit)!, index.get(next)!))
      }
    }
    if (low.get(unit) !== index.get(unit)) return
    const component: string[] = []
    let member: string
    do {
      member = stack.pop()!
      onStack.delete(member)
      component.push(member)
    } while (member !== unit)
    if (component.length > 1) cycles.push(component.sort().join(' <-> '))
  }
  for (const unit of [...edges.keys()].sort()) if (!index.has(unit)) visit(unit)
  return cycles
}

describe('engine layering', () => {
  const files = sourceFiles()
  // Tests may reach any layer to set up what they check; the shipped code may not.
  const shipped = files.filter((file) => !isTest(file.path))

  it('places every folder of src/ on a layer', () => {
    const unplaced = [...new Set(shipped.map((file) => unitOf(file.path)))].filter(
      (unit) => !layerOf.has(unit),
    )
    expect(unplaced, 'add these folders to LAYERS in layers.test.ts').toEqual([])
  })

  it('imports only from its own layer or below', () => {
    const upward = shipped.flatMap((file) => {
      const from = unitOf(file.path)
      return importsOf(file)
        .filter(isSourceFile)
        .filter((target) => (layerOf.get(unitOf(target)) ?? -1) > (layerOf.get(from) ?? -1))
        .map((target) => `${file.path} -> ${target}`)
    })
    expect(upward, `imports from a lower layer to a higher one (${LAYERS.join(' < ')})`).toEqual([])
  })

  it('has no import cycle between folders but the known ones', () => {
    const edges = new Map<string, Set<string>>()
    for (const file of shipped) {
      const from = unitOf(file.path)
      for (const target of importsOf(file).filter(isSourceFile)) {
        const to = unitOf(target)
        if (to !== from) edges.set(from, (edges.get(from) ?? new Set()).add(to))
      }
    }
    const cycles = folderCycles(edges)
    expect(
      cycles.filter((cycle) => !(cycle in KNOWN_CYCLES)),
      'folders that import each other',
    ).toEqual([])
    expect(
      Object.keys(KNOWN_CYCLES).filter((cycle) => !cycles.includes(cycle)),
      'KNOWN_CYCLES entries that no longer hold: remove them',
    ).toEqual([])
  })

  it(`keeps files under ${MAX_LINES} lines, or says why at their top`, () => {
    const lines = new Map(files.map((file) => [file.path, file.text.split('\n').length - 1]))
    const long = files.filter(
      (file) =>
        lines.get(file.path)! > MAX_LINES &&
        !(file.path in LONG_FILES) &&
        !LONG_FILE_REASON.test(file.text.split('\n').slice(0, 5).join('\n')),
    )
    expect(
      long.map((file) => `${file.path} (${lines.get(file.path)} lines)`),
      `split these files, or start them with "// Over ${MAX_LINES} lines: <why>"`,
    ).toEqual([])
    expect(
      Object.keys(LONG_FILES).filter((path) => (lines.get(path) ?? 0) <= MAX_LINES),
      'LONG_FILES entries now split or gone: remove them',
    ).toEqual([])
  })

  it('keeps @dbsnap/engine/core free of database drivers and the AWS SDK, lazy imports too', () => {
    const heavy = (name: string): boolean =>
      /^(pg|pg-copy-streams|mysql2|mongodb|bson)(\/|$)|^@aws-sdk\//.test(name)
    expect([...packagesReached(shipped, 'core.ts')].filter(heavy)).toEqual([])
    // The same walk from the whole engine finds them, so the check above can fail.
    expect([...packagesReached(shipped, 'index.ts')].filter(heavy)).toEqual(
      expect.arrayContaining(['pg', 'mysql2', 'mongodb', '@aws-sdk/client-s3']),
    )
  })
})
