#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
// Rewrites the relative links of each published package's README that point at files the
// tarball does not ship (examples, docs, benches, other packages) into absolute links to the
// repository, so they work on the registry's page, and example paths written as code
// (`examples/x.mjs`) into links. Links to shipped files stay relative.
// Needs the build (`npm run build`): it asks `npm pack --dry-run` what is shipped.
// Usage: npm run fix-readme-links
import { readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { packedFiles, publishedPackages, REPOSITORY, root } from './packages.mjs';

const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const isDir = (path) => !tracked.includes(path) && tracked.some((t) => t.startsWith(`${path}/`));

let changed = 0;
for (const { folder, dir } of publishedPackages()) {
  const shipped = packedFiles(dir);
  const file = join(dir, 'README.md');
  const before = readFileSync(file, 'utf8');
  const after = before.replace(
    /(!?)\[([^\]]*)\]\((?!https?:|mailto:|#)([^)\s]+)\)/g,
    (whole, bang, text, target) => {
      const [path, anchor = ''] = target.split(/(?=[#?])/);
      const rel = posix.normalize(path);
      if (shipped.includes(rel) || shipped.some((f) => f.startsWith(`${rel}/`))) return whole;
      const repoPath = posix.normalize(`packages/${folder}/${rel}`);
      if (repoPath.startsWith('..')) {
        console.warn(`${folder}/README.md: ${target} is outside the repository; fix it by hand`);
        return whole;
      }
      // images need the file itself (raw), other links the page showing it
      const kind = bang ? 'raw' : isDir(repoPath) ? 'tree' : 'blob';
      return `${bang}[${text}](${REPOSITORY}/${kind}/main/${repoPath}${anchor})`;
    },
  );
  // A path in code (`examples/x.mjs`) of a file not shipped becomes a link to it.
  const linked = after.replace(/(?<!\[)`(examples\/[\w.-]+\.[a-z]+)`(?!\])/g, (whole, path) =>
    shipped.includes(path)
      ? whole
      : `[\`${path}\`](${REPOSITORY}/blob/main/packages/${folder}/${path})`,
  );
  if (linked !== before) {
    writeFileSync(file, linked);
    // longer links widen tables: let the formatter realign them, as the lint step expects
    execFileSync(join(root, 'node_modules/.bin/biome'), ['format', '--write', file], {
      stdio: 'ignore',
    });
    changed++;
    console.log(`rewrote links in packages/${folder}/README.md`);
  }
}
console.log(`${changed} README(s) changed`);
