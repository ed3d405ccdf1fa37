// Checkpoint IO against peers measured in the same run (run after `npx tsc -b`):
//   crc32Js (our slicing-by-8 fallback) vs node:zlib crc32 (C; what crc32 uses when Node has it);
//   writeCheckpointFile (stream + CRC + fsync + rename) vs fs.writeFile + fsync of the same bytes;
//   readCheckpointFile (verify everything) vs fs.readFile of the same file.
// Usage: node bench/checkpoint-io.mjs [megabytes=256]
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { crc32Js, readCheckpointFile, writeCheckpointFile } from '@lrw/trainer';

const mb = Number(process.argv[2] ?? 256);
const floats = (mb * 2 ** 20) / 4;
const data = new Float32Array(floats);
for (let i = 0; i < floats; i++) data[i] = Math.sin(i);
const bytes = new Uint8Array(data.buffer);

async function time(fn, repeats = 3) {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best / 1000;
}
const rate = (s) => `${(mb / s).toFixed(0)} MB/s`;

const ours = await time(() => crc32Js(bytes));
console.log(`crc32Js (fallback)    ${rate(ours)}`);
if (typeof zlib.crc32 === 'function') {
  const peer = await time(() => zlib.crc32(bytes));
  console.log(
    `crc32 (node:zlib)     ${rate(peer)}   ours/peer time ratio ${(ours / peer).toFixed(2)}`,
  );
}

const dir = tmpdir();
const ckpt = join(dir, `lrw-bench-${process.pid}.lrwckpt`);
const raw = join(dir, `lrw-bench-${process.pid}.bin`);
const contents = {
  step: 1,
  model: { w: { shape: [floats], data } },
  optimizer: { tensors: {}, state: null },
  parts: {},
  config: {},
};
const write = await time(() => writeCheckpointFile(ckpt, contents));
const writePeer = await time(async () => {
  await writeFile(raw, bytes);
  const h = await open(raw, 'r+');
  await h.sync();
  await h.close();
});
console.log(
  `write checkpoint      ${rate(write)}   vs writeFile+fsync ${rate(writePeer)}   ratio ${(write / writePeer).toFixed(2)}`,
);
const read = await time(() => readCheckpointFile(ckpt));
const readPeer = await time(() => readFile(raw));
console.log(
  `read + verify         ${rate(read)}   vs readFile ${rate(readPeer)}   ratio ${(read / readPeer).toFixed(2)}`,
);
await rm(ckpt, { force: true });
await rm(raw, { force: true });
