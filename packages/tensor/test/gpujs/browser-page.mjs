// A page that runs @lrw/tensor from its built dist/ in a browser, with gpu.js's browser bundle
// loaded by a script tag (it defines globalThis.GPU, where the gpujs backend finds it). Served by
// `servePage` on http://127.0.0.1 and driven by headless Chromium (playwright-core): the gpujs
// conformance test and the browser matmul benchmark use it.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = fileURLToPath(new URL('../../', import.meta.url));

/** gpu.js's browser bundle, when the optional package is installed. */
export function gpuJsBundle() {
  try {
    const require = createRequire(join(PKG, 'package.json'));
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

/** Debian's Chromium, if installed. */
export function findChromium() {
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

/**
 * Why the browser runs cannot happen here (no Chromium, no gpu.js, no dist/), or undefined.
 */
export function browserUnavailable() {
  if (!findChromium()) return 'no Chromium (apt-get install chromium)';
  if (!gpuJsBundle()) return 'the optional package gpu.js is not installed';
  if (!existsSync(join(PKG, 'dist', 'gpujs', 'index.js'))) {
    return 'packages/tensor/dist is not built (npm run build)';
  }
  return undefined;
}

async function importMap() {
  const manifest = JSON.parse(await readFile(join(PKG, 'package.json'), 'utf8'));
  const imports = {};
  for (const [sub, target] of Object.entries(manifest.exports)) {
    if (typeof target === 'object' && target.import?.endsWith('.js')) {
      imports[`@lrw/tensor${sub.slice(1)}`] = `/pkg/${target.import.slice(2)}`;
    }
  }
  for (const [from, to] of Object.entries(manifest.browser ?? {})) {
    imports[`/pkg/${from.slice(2)}`] = `/pkg/${to.slice(2)}`;
  }
  return { imports };
}

/**
 * Serves a page whose module script is `script` (JavaScript source run after gpu.js loads;
 * it sets `globalThis.result`). Resolves to `{ url, close }`.
 */
export async function servePage(script) {
  const map = JSON.stringify(await importMap());
  const bundle = gpuJsBundle();
  const html = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">${map}</script>
<script src="/gpu.js"></script>
<script type="module" src="/main.mjs"></script>`;
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    try {
      let body;
      let type = 'text/javascript';
      if (path === '/') {
        body = html;
        type = 'text/html';
      } else if (path === '/main.mjs') body = script;
      else if (path === '/gpu.js' && bundle) body = await readFile(bundle);
      else if (/^\/test\/gpujs\/[a-z-]+\.mjs$/.test(path)) body = await readFile(join(PKG, path));
      else if (path.startsWith('/pkg/dist/')) {
        const file = normalize(join(PKG, path.slice(5)));
        if (!file.startsWith(join(PKG, 'dist')))
          throw Object.assign(new Error('no'), { code: 'ENOENT' });
        body = await readFile(file);
        if (extname(file) === '.wasm') type = 'application/wasm';
      } else throw Object.assign(new Error('not served'), { code: 'ENOENT' });
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    } catch (error) {
      res.writeHead(error?.code === 'ENOENT' ? 404 : 500).end(String(error?.message ?? error));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Runs `script` in a page in headless Chromium and returns its `globalThis.result` (rejects
 * with the page's errors when it does not finish within `timeoutMs`). Chromium without a GPU
 * exposes WebGL2 through ANGLE on SwiftShader (a CPU rasterizer).
 */
export async function runInChromium(script, { timeoutMs = 300_000, log } = {}) {
  const { chromium } = await import('playwright-core');
  const server = await servePage(script);
  const browser = await chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--disable-background-networking',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || log) (log ?? (() => {}))(m.text());
      if (m.type() === 'error' && !m.text().includes('GL Driver Message')) problems.push(m.text());
    });
    await page.goto(server.url);
    try {
      await page.waitForFunction(() => 'result' in globalThis, null, {
        timeout: timeoutMs,
        polling: 200,
      });
    } catch (error) {
      throw new Error(`the page did not finish: ${problems.join('; ') || String(error)}`);
    }
    return await page.evaluate(() => globalThis.result);
  } finally {
    await browser.close();
    await server.close();
  }
}
