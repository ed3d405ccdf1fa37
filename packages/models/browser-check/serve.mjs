// A small static server for the browser check: serves this folder and the built dist/ folders
// of the @lrw packages on http://127.0.0.1 (a secure context, so navigator.gpu is exposed), and
// writes an import map into index.html from the packages' package.json "exports" and "browser"
// fields, so the page loads the same ESM files as Node, with no bundler.
//
//   node packages/models/browser-check/serve.mjs [--port 8080]
//
// then open the printed URL in a browser with WebGPU (Chrome: --enable-unsafe-webgpu on Linux).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (the folder holding packages/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Packages the page may import; only their dist/ folders are served. */
export const PACKAGES = ['tensor', 'models'];
const PAGE_DIR = 'packages/models/browser-check/';
/** Where the page loads gpu.js's browser bundle (the gpujs backend's optional dependency). */
const GPU_JS_URL = 'vendor/gpu.js';

/** gpu.js's browser bundle (from @lrw/tensor's optional dependency), when installed. */
export function gpuJsBundle() {
  try {
    const require = createRequire(join(ROOT, 'packages', 'tensor', 'package.json'));
    const file = join(
      dirname(require.resolve('gpu.js/package.json')),
      'dist',
      'gpu-browser.min.js',
    );
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The import map of the page: each package's subpath exports (import condition) as bare
 * specifiers, and each entry of its "browser" field (a Node-only file and its browser stand-in)
 * as a URL-to-URL mapping, which is how a browser applies the field without a bundler.
 */
export async function importMap() {
  const imports = {};
  for (const dir of PACKAGES) {
    const base = `/packages/${dir}/`;
    const manifest = JSON.parse(
      await readFile(join(ROOT, 'packages', dir, 'package.json'), 'utf8'),
    );
    for (const [sub, target] of Object.entries(manifest.exports ?? {})) {
      const file = typeof target === 'string' ? target : (target.browser ?? target.import);
      if (typeof file !== 'string' || !file.endsWith('.js')) continue;
      imports[`${manifest.name}${sub.slice(1)}`] = new URL(file, `http://x${base}`).pathname;
    }
    for (const [from, to] of Object.entries(manifest.browser ?? {})) {
      if (typeof to !== 'string') continue;
      imports[new URL(from, `http://x${base}`).pathname] = new URL(to, `http://x${base}`).pathname;
    }
  }
  // The gpujs backend imports 'gpu.js'; its UMD bundle run as a module defines globalThis.GPU.
  if (gpuJsBundle()) imports['gpu.js'] = `/${GPU_JS_URL}`;
  return { imports };
}

function allowed(path) {
  if (path.startsWith(PAGE_DIR) || path === GPU_JS_URL) return true;
  return PACKAGES.some((p) => path.startsWith(`packages/${p}/dist/`));
}

/**
 * Starts the server on `host:port` (port 0: any free port). Resolves to its base URL (the page
 * is `${url}packages/models/browser-check/`) and a `close()`.
 */
export async function serve({ host = '127.0.0.1', port = 0 } = {}) {
  const map = JSON.stringify(await importMap(), null, 2);
  const server = createServer(async (req, res) => {
    try {
      let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
      if (path === '' || path === PAGE_DIR.slice(0, -1)) path = PAGE_DIR;
      if (path.endsWith('/')) path += 'index.html';
      const file = normalize(join(ROOT, path));
      if (!file.startsWith(ROOT) || file.includes(`${sep}..${sep}`) || !allowed(path)) {
        res.writeHead(404).end('not served');
        return;
      }
      const bundle = path === GPU_JS_URL ? gpuJsBundle() : undefined;
      let body = await readFile(bundle ?? file);
      if (path.endsWith('index.html')) {
        body = Buffer.from(
          body.toString('utf8').replace('<!-- lrw:importmap -->', () => {
            return `<script type="importmap">\n${map}\n</script>`;
          }),
        );
      }
      res.writeHead(200, {
        'content-type': bundle
          ? TYPES['.js']
          : (TYPES[extname(file)] ?? 'application/octet-stream'),
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch (error) {
      res.writeHead(error?.code === 'ENOENT' ? 404 : 500).end(String(error?.message ?? error));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    url: `http://${host}:${address.port}/`,
    page: `http://${host}:${address.port}/${PAGE_DIR}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : 8080;
  for (const dir of PACKAGES) {
    try {
      await readFile(join(ROOT, 'packages', dir, 'dist', 'index.js'));
    } catch {
      console.error(
        `packages/${dir}/dist is missing: run \`npm run build\` at the repository root first`,
      );
      process.exit(1);
    }
  }
  const { page } = await serve({ port });
  console.log(`browser check: ${page}  (Ctrl+C stops the server)`);
}
