import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * URL of a worker module beside `base` (an import.meta.url). Built code finds the .js file next
 * to itself; code run from the TypeScript sources (unit tests) uses the built copy in dist/,
 * since worker threads cannot load .ts files: run `npx tsc -b` first.
 */
export function workerUrl(relative: string, base: string): URL {
  const url = new URL(`${relative}.js`, base);
  const path = fileURLToPath(url);
  if (existsSync(path)) return url;
  const i = path.lastIndexOf(`${sep(path)}src${sep(path)}`);
  if (i >= 0) {
    const built = `${path.slice(0, i)}${sep(path)}dist${path.slice(i + 4)}`;
    if (existsSync(built)) return pathToFileURL(built);
  }
  throw new Error(
    `@lrw/data: worker module ${path} not found; build the package first (npx tsc -b in packages/data)`,
  );
}

function sep(path: string): string {
  return path.includes('\\') && !path.includes('/') ? '\\' : '/';
}
