// The published packages of the repository and what `npm pack` puts in their tarballs.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
/** The repository URL every package.json and README link uses. */
export const REPOSITORY = 'https://github.com/lrw-dev/lrw';

/** Every non-private package under packages/, with its folder and manifest. */
export function publishedPackages() {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .filter((f) => existsSync(join(dir, f, 'package.json')))
    .map((folder) => {
      const path = join(dir, folder);
      return {
        folder,
        dir: path,
        pkg: JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')),
      };
    })
    .filter((p) => !p.pkg.private);
}

/**
 * The files `npm pack` would put in the tarball of the package in `dir` (paths relative to the
 * package), without writing it. Needs the build (dist/) in place.
 */
export function packedFiles(dir) {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [report] = JSON.parse(out);
  return report.files.map((f) => f.path).sort();
}

/** Every `exports` target of a manifest: [subpath, condition, file]. */
export function exportTargets(pkg) {
  const out = [];
  for (const [subpath, entry] of Object.entries(pkg.exports ?? {})) {
    if (typeof entry === 'string') out.push([subpath, 'default', entry]);
    else
      for (const [condition, file] of Object.entries(entry)) out.push([subpath, condition, file]);
  }
  return out;
}
