import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MissingPackageError } from '../errors.js';

const require = createRequire(import.meta.url);

export interface ResolvedPackage {
  name: string;
  version: string;
  dir: string;
}

/**
 * Folder and version of an installed npm package, found by Node's ordinary package lookup from
 * this file (so a package installed anywhere up the node_modules chain counts); a missing one
 * throws MissingPackageError naming the package to install.
 */
export function resolveCorpusPackage(name: string, domain: string): ResolvedPackage {
  let manifest: string;
  try {
    manifest = require.resolve(`${name}/package.json`);
  } catch {
    // Packages whose exports map hides package.json: resolve the entry point and walk up.
    try {
      let dir = dirname(require.resolve(name));
      while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
      manifest = join(dir, 'package.json');
    } catch {
      throw new MissingPackageError(name, domain);
    }
  }
  const version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  return { name, version, dir: dirname(manifest) };
}
