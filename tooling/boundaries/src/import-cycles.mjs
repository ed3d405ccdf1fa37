// Runtime import cycles inside a package. ES modules evaluate a cycle in an order that depends on
// which module is imported first, so a cycle that "works" through the entry point crashes with
// "Cannot access 'x' before initialization" when a user imports a module of it directly
// (ARCHITECTURE.md: layers are one-way at run time too).
//
// An edge is an import that survives compilation: `import type` / `export type` are erased, and
// so is `import { type A }` without verbatimModuleSyntax; with it (this repository's setting),
// TypeScript keeps `import {} from './a.js'`, which loads './a.js', so that one is a runtime edge.
// Dynamic `import()` is not an edge: it runs after every static import has finished.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

const SOURCE_RE = /\.(?:[cm]?ts|[cm]?js|tsx)$/;

/** `verbatimModuleSyntax` of the shared tsconfig (the setting every package compiles with). */
export function sharedVerbatimModuleSyntax() {
  const base = new URL('../../config/tsconfig.base.json', import.meta.url);
  return JSON.parse(readFileSync(base, 'utf8')).compilerOptions?.verbatimModuleSyntax === true;
}

function specifierText(node) {
  return node && ts.isStringLiteral(node) ? node.text : null;
}

/**
 * The specifiers of `source` that load a module at run time, in order: static imports and
 * re-exports that survive compilation under `verbatimModuleSyntax`.
 */
export function runtimeImportsOf(source, { verbatimModuleSyntax = true, fileName = 'x.ts' } = {}) {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false);
  const out = [];
  for (const stmt of file.statements) {
    if (ts.isImportDeclaration(stmt)) {
      const spec = specifierText(stmt.moduleSpecifier);
      const clause = stmt.importClause;
      if (!spec) continue;
      if (clause?.isTypeOnly) continue; // import type { A } / import type A
      const named = clause?.namedBindings;
      const allInlineTypes =
        clause &&
        !clause.name &&
        named &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((e) => e.isTypeOnly);
      if (allInlineTypes && !verbatimModuleSyntax) continue; // import { type A } (elided)
      out.push(spec);
    } else if (ts.isExportDeclaration(stmt)) {
      const spec = specifierText(stmt.moduleSpecifier);
      if (!spec || stmt.isTypeOnly) continue; // export type { A } from
      const clause = stmt.exportClause;
      const allInlineTypes =
        clause &&
        ts.isNamedExports(clause) &&
        clause.elements.length > 0 &&
        clause.elements.every((e) => e.isTypeOnly);
      if (allInlineTypes && !verbatimModuleSyntax) continue;
      out.push(spec);
    } else if (
      ts.isImportEqualsDeclaration(stmt) &&
      !stmt.isTypeOnly &&
      ts.isExternalModuleReference(stmt.moduleReference)
    ) {
      const spec = specifierText(stmt.moduleReference.expression);
      if (spec) out.push(spec);
    }
  }
  return out;
}

function* sourceFiles(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (SOURCE_RE.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

/** The source file a relative specifier names ('./a.js' -> './a.ts', './dir' -> './dir/index.ts'). */
function resolveRelative(fromFile, spec, known) {
  const base = join(dirname(fromFile), spec);
  const stem = base.replace(/\.(?:[cm]?js|jsx)$/, '');
  const candidates = [
    base,
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.mts`,
    `${stem}.cts`,
    `${stem}.js`,
    `${stem}.mjs`,
    join(base, 'index.ts'),
    join(base, 'index.js'),
  ];
  return candidates.find((c) => known.has(c)) ?? null;
}

/** A self-import by package name ('@lrw/tensor/testing') mapped through `exports` to src. */
function resolveSelf(pkg, pkgDir, spec, known) {
  if (spec !== pkg.name && !spec.startsWith(`${pkg.name}/`)) return null;
  const sub = spec === pkg.name ? '.' : `./${spec.slice(pkg.name.length + 1)}`;
  const entry = pkg.exports?.[sub];
  const target = typeof entry === 'string' ? entry : (entry?.import ?? entry?.default);
  if (typeof target !== 'string') return null;
  const src = target.replace(/^\.\/dist\//, './src/');
  return resolveRelative(join(pkgDir, 'package.json'), src, known);
}

/** Runtime import edges between the source files of the package in `pkgDir`. */
export function importGraph(pkgDir, options = {}) {
  const pkgPath = join(pkgDir, 'package.json');
  const pkg = existsSync(pkgPath) ? JSON.parse(readFileSync(pkgPath, 'utf8')) : {};
  const files = [...sourceFiles(join(pkgDir, 'src'))];
  const known = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const targets = [];
    for (const spec of runtimeImportsOf(readFileSync(file, 'utf8'), {
      ...options,
      fileName: file,
    })) {
      const target = spec.startsWith('.')
        ? resolveRelative(file, spec, known)
        : resolveSelf(pkg, pkgDir, spec, known);
      if (target) targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one module, or a module importing itself. */
function cyclicComponents(graph) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  const visit = (root) => {
    // Iterative Tarjan: frames of [node, next edge position].
    const frames = [[root, 0]];
    indices.set(root, index);
    low.set(root, index++);
    stack.push(root);
    onStack.add(root);
    while (frames.length) {
      const frame = frames[frames.length - 1];
      const [v, i] = frame;
      const edges = graph.get(v) ?? [];
      if (i < edges.length) {
        frame[1]++;
        const w = edges[i];
        if (!indices.has(w)) {
          indices.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          frames.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), indices.get(w)));
        continue;
      }
      frames.pop();
      if (frames.length) {
        const parent = frames[frames.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(v)));
      }
      if (low.get(v) === indices.get(v)) {
        const comp = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp);
      }
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return out;
}

/** One concrete cycle through `component`, as a path that starts and ends at the same module. */
function cycleIn(graph, component) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== null; u = prev.get(u)) path.unshift(u);
        return path;
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/**
 * Runtime import cycles of every package under `packagesDir` (folders with a package.json).
 * Returns [{ pkg, cycle: [files relative to packagesDir, first repeated last], size }].
 */
export function findImportCycles(packagesDir, options = {}) {
  const found = [];
  for (const folder of readdirSync(packagesDir).sort()) {
    const pkgDir = join(packagesDir, folder);
    const pkgPath = join(pkgDir, 'package.json');
    if (!existsSync(pkgPath)) continue;
    const name = JSON.parse(readFileSync(pkgPath, 'utf8')).name ?? folder;
    const graph = importGraph(pkgDir, options);
    for (const component of cyclicComponents(graph)) {
      found.push({
        pkg: name,
        size: component.length,
        cycle: cycleIn(graph, component).map((f) => relative(packagesDir, f)),
      });
    }
  }
  return found;
}

/** A one-line description of a cycle for error output. */
export function describeCycle(c) {
  const extra = c.size > c.cycle.length - 1 ? ` (${c.size} modules in the tangle)` : '';
  return `${c.pkg}: runtime import cycle ${c.cycle.join(' -> ')}${extra}`;
}

/** Every module `file` loads at run time, directly or not (paths as in `graph`). */
export function runtimeClosure(graph, file) {
  const seen = new Set();
  const stack = [file];
  while (stack.length) {
    for (const next of graph.get(stack.pop()) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return seen;
}
