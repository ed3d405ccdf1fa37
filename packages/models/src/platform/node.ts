// The file-system services of the safetensors and Hugging Face folder functions, in Node.
// package.json's "browser" field replaces this file with ./browser.js, so these are the
// package's only `node:` imports and the rest of @lrw/models loads in a browser unchanged.

export { mkdir, readFile } from 'node:fs/promises';
export { dirname, join } from 'node:path';
export { writeFileAtomic } from '@lrw/atomic-file';
