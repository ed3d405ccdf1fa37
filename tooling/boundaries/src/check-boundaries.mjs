// Dependency-boundary check: every @lrw package may import (in its sources and its package.json)
// only the @lrw packages that allowed-dependencies.json (from ARCHITECTURE.md) lists for it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const IMPORT_RE =
  /(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The bare package name of an import specifier ('@lrw/tensor/cpu' -> '@lrw/tensor'). */
export function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:'))
    return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Import specifiers in one source text. */
export function importsOf(source) {
  const out = [];
  for (const m of source.matchAll(IMPORT_RE)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(?:[cm]?ts|[cm]?js|tsx)$/.test(name)) yield path;
  }
}

/**
 * Checks the packages under `packagesDir` against `allowed` ({ name: [allowed names] }).
 * Returns a list of violations: { pkg, imported, where, reason }.
 */
export function checkBoundaries(packagesDir, allowed) {
  const violations = [];
  for (const folder of readdirSync(packagesDir)) {
    const pkgPath = join(packagesDir, folder, 'package.json');
    if (!existsSync(pkgPath)) continue;
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
    const rule = allowed[pkg.name];
    if (!rule) {
      violations.push({
        pkg: pkg.name,
        imported: null,
        where: relative(packagesDir, pkgPath),
        reason: `package ${pkg.name} is not listed in allowed-dependencies.json: add it with the @lrw packages it may import`,
      });
      continue;
    }
    const ok = new Set([pkg.name, ...rule, ...(allowed.$tooling ?? [])]);
    const declared = { ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies };
    for (const dep of Object.keys(declared)) {
      if (dep.startsWith('@lrw/') && !ok.has(dep)) {
        violations.push({
          pkg: pkg.name,
          imported: dep,
          where: `${relative(packagesDir, pkgPath)} (dependencies)`,
          reason: `${pkg.name} may not depend on ${dep}; allowed: ${rule.join(', ') || 'no @lrw package'}`,
        });
      }
    }
    for (const file of sourceFiles(join(packagesDir, folder))) {
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const target = packageOf(spec);
        if (target?.startsWith('@lrw/') && !ok.has(target)) {
          violations.push({
            pkg: pkg.name,
            imported: target,
            where: relative(packagesDir, file),
            reason: `${pkg.name} may not import ${target}; allowed: ${rule.join(', ') || 'no @lrw package'} (see shared/design/ARCHITECTURE.md)`,
          });
        }
      }
    }
  }
  return violations;
}

export function loadAllowed() {
  return JSON.parse(readFileSync(new URL('../allowed-dependencies.json', import.meta.url), 'utf8'));
}
