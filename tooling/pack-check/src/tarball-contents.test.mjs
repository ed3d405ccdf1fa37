// What each published package's tarball holds, from `npm pack --dry-run` on the built packages:
// the licence, manifests that work on the registry and under require(), no build caches, source
// maps whose sources are shipped, READMEs whose links and named examples resolve from the
// registry page, and CHANGELOGs with entries.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportTargets, packedFiles, publishedPackages, REPOSITORY, root } from './packages.mjs';

const tracked = new Set(
  execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean),
);
const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');
const packages = publishedPackages();

/** Markdown link targets: inline `[x](target "title")`, `![x](target)` and `[x]: target`. */
export function linkTargets(markdown) {
  const out = [];
  for (const m of markdown.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]);
  for (const m of markdown.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm))
    out.push(m[1]);
  return out;
}
const isAbsolute = (t) => /^(https?:|mailto:)/.test(t);
const inRepo = (path) => tracked.has(path) || [...tracked].some((t) => t.startsWith(`${path}/`));

/**
 * What does not work on the registry page of a README shipped in a tarball holding `shipped`:
 * relative links to files not in the tarball, absolute links into this repository naming files
 * it does not have, and examples the text names (`node examples/x.mjs`) that are neither
 * shipped nor linked somewhere in the README. `npm run fix-readme-links` rewrites the first kind.
 */
export function readmeProblems(readme, folder, shipped) {
  const problems = [];
  const linked = new Set();
  for (const m of readme.matchAll(/!\[[^\]]*\]\((https?:[^)\s]+)\)/g)) {
    if (m[1].startsWith(`${REPOSITORY}/blob/`)) {
      problems.push(`${m[1]}: an image needs the file, ${m[1].replace('/blob/', '/raw/')}`);
    }
  }
  for (const target of linkTargets(readme)) {
    if (target.startsWith('#')) continue;
    if (isAbsolute(target)) {
      const m = target.match(new RegExp(`^${REPOSITORY}/(?:blob|tree|raw)/main/([^#?]+)`));
      if (m) {
        if (!inRepo(m[1])) problems.push(`${target}: no such file in the repository`);
        linked.add(m[1]);
      }
      continue;
    }
    const rel = posix.normalize(target.replace(/[#?].*$/, ''));
    if (shipped.has(rel) || [...shipped].some((f) => f.startsWith(`${rel}/`))) continue;
    const repoPath = posix.normalize(`packages/${folder}/${rel}`);
    problems.push(
      repoPath.startsWith('..')
        ? `${target}: outside the repository, a dead link everywhere`
        : `${target}: not in the tarball; link ${REPOSITORY}/blob/main/${repoPath} (npm run fix-readme-links)`,
    );
  }
  const named = new Set(
    [...readme.matchAll(/(?<![\w/.-])examples\/[\w.-]+\.[a-z]+/g)].map((m) => m[0]),
  );
  for (const example of named) {
    const path = `packages/${folder}/${example}`;
    // linked itself, or a folder holding it is
    const reachable = [...linked].some((l) => path === l || path.startsWith(`${l}/`));
    if (!shipped.has(example) && !reachable) {
      problems.push(
        `${example}: named, but neither shipped nor linked (${REPOSITORY}/blob/main/packages/${folder}/${example})`,
      );
    }
  }
  return problems;
}

describe('the repository', () => {
  it('has the MIT licence the manifests name', () => {
    expect(rootLicense).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
    expect(rootLicense).toContain('Permission is hereby granted, free of charge');
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).license).toBe('MIT');
  });
  it('has the published packages, and this check waits for the build of each', () => {
    expect(packages.map((p) => p.folder).sort()).toEqual([
      'atomic-file',
      'data',
      'eval',
      'models',
      'mpi',
      'random',
      'strategies',
      'tensor',
      'theory',
      'trainer',
    ]);
    // turbo runs these tests after every package's build (turbo.json names each one)
    const turbo = JSON.parse(readFileSync(join(root, 'turbo.json'), 'utf8'));
    expect(turbo.tasks['@lrw/pack-check#test'].dependsOn.sort()).toEqual(
      packages.map((p) => `${p.pkg.name}#build`).sort(),
    );
  });
});

for (const { folder, dir, pkg } of packages) {
  describe(pkg.name, () => {
    const files = packedFiles(dir);
    const shipped = new Set(files);

    it('manifest: licence, repository, homepage, bugs; exports loadable by import and require', () => {
      expect(pkg.license).toBe('MIT');
      expect(pkg.repository).toEqual({
        type: 'git',
        url: `git+${REPOSITORY}.git`,
        directory: `packages/${folder}`,
      });
      expect(pkg.homepage).toBe(`${REPOSITORY}/tree/main/packages/${folder}#readme`);
      expect(pkg.bugs).toEqual({ url: `${REPOSITORY}/issues` });
      for (const [subpath, entry] of Object.entries(pkg.exports)) {
        if (typeof entry === 'string') continue;
        // types first (TypeScript takes the first match), then import, then default: require()
        // of the ES module (Node >= 20.19) and every other resolver get the same file.
        expect(Object.keys(entry), subpath).toEqual(['types', 'import', 'default']);
        expect(entry.default, subpath).toBe(entry.import);
        if (subpath !== '.') {
          // TypeScript's node10 resolution (module: commonjs) ignores exports: typesVersions
          // gives it the subpath's types.
          expect(pkg.typesVersions?.['*']?.[subpath.slice(2)], subpath).toEqual([entry.types]);
        }
      }
    });

    it('LICENSE, README, CHANGELOG and every export target are in the tarball', () => {
      expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toBe(rootLicense);
      for (const f of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']) {
        expect(files).toContain(f);
      }
      for (const [subpath, condition, file] of exportTargets(pkg)) {
        expect(files, `${subpath} ${condition}`).toContain(normalize(file));
      }
    });

    it('bin entries are committed files, so npm links them before the build', () => {
      for (const [name, target] of Object.entries(pkg.bin ?? {})) {
        const rel = normalize(`packages/${folder}/${target}`);
        expect(tracked.has(rel), `${name} -> ${rel} is not a tracked file`).toBe(true);
        expect(files).toContain(normalize(target));
        expect(readFileSync(join(root, rel), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
      }
    });

    it('no build caches, tests or test fixtures', () => {
      const unwanted = files.filter(
        (f) =>
          /(^|\/)\.?[^/]*\.tsbuildinfo$/.test(f) ||
          /\.test(-helpers)?\.[cm]?[jt]s$/.test(f) ||
          /\.test\.d\.ts$/.test(f) ||
          /(^|\/)fixtures\//.test(f) ||
          /(^|\/)\.vitest-results\.json$/.test(f) ||
          /(^|\/)\.turbo\//.test(f),
      );
      expect(unwanted).toEqual([]);
    });

    it('source maps point at shipped sources, and every shipped source has a map', () => {
      const maps = files.filter((f) => f.endsWith('.map'));
      expect(maps.length).toBeGreaterThan(0);
      const mapped = new Set();
      for (const m of maps) {
        const map = JSON.parse(readFileSync(join(dir, m), 'utf8'));
        map.sources.forEach((s, i) => {
          const target = normalize(join(dirname(m), map.sourceRoot ?? '', s));
          mapped.add(target);
          const ok = shipped.has(target) || typeof map.sourcesContent?.[i] === 'string';
          const why = existsSync(join(dir, target))
            ? `${m} -> ${target}, which is not shipped`
            : `${m} is stale build output (${target} is gone): npm run clean && npm run build`;
          expect(ok, why).toBe(true);
        });
      }
      const sources = files.filter((f) => f.startsWith('src/') && f.endsWith('.ts'));
      expect(sources.filter((f) => !mapped.has(f))).toEqual([]);
    });

    it('CHANGELOG has entries', () => {
      const changelog = readFileSync(join(dir, 'CHANGELOG.md'), 'utf8');
      expect(changelog).toMatch(new RegExp(`^# ${pkg.name}\\n`));
      expect(changelog).toMatch(/^## \S+/m);
      expect(changelog).toMatch(/^- \S/m);
    });

    it('README links and the examples it names work from the registry page', () => {
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      expect(readmeProblems(readme, folder, shipped)).toEqual([]);
    });
  });
}

describe('the README link parser', () => {
  it('finds inline, image and reference links', () => {
    expect(
      linkTargets('a [x](y.md) b ![i](img/p.png "t") [c](<d>)\n[ref]: https://x.org/a\n'),
    ).toEqual(['y.md', 'img/p.png', 'd', 'https://x.org/a']);
    expect(existsSync(join(root, 'LICENSE'))).toBe(true);
  });
});
