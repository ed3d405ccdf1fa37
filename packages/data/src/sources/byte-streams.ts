import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { DataError } from '../errors.js';

// Files as decompressed byte streams and as lines. Gzip uses Node's zlib; zstd uses fzstd
// (pure JavaScript) because Node 20's zlib has no zstd. The codec comes from the name
// (.gz, .zst, .zstd).
export function compressionOf(file: string): 'gzip' | 'zstd' | 'none' {
  if (/\.gz$/i.test(file)) return 'gzip';
  if (/\.zstd?$/i.test(file)) return 'zstd';
  return 'none';
}

function zstdTransform(): Transform {
  let decoder: Decompress;
  const transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        decoder.push(new Uint8Array(0), true);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
  decoder = new Decompress((data) => {
    transform.push(Buffer.from(data));
  });
  return transform;
}

/** The decompressed bytes of a file. */
export function openDecompressed(file: string): Readable {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const codec = compressionOf(file);
  if (codec === 'none') return raw;
  const decoder = codec === 'gzip' ? createGunzip() : zstdTransform();
  raw.on('error', (error) => decoder.destroy(error));
  return raw.pipe(decoder);
}

/** Lines of a (possibly compressed) UTF-8 text file, with 1-based line numbers. */
export async function* readLines(file: string): AsyncGenerator<[string, number]> {
  const input = openDecompressed(file);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const line of lines) yield [line, ++n];
  } catch (error) {
    if (DataError.isInstance(error)) throw error;
    throw new DataError(
      'UNSUPPORTED_INPUT',
      `${file}: cannot read after line ${n} (${(error as Error).message})`,
      {
        cause: error,
        hint: `check that the file is complete and that its compression matches its name (${compressionOf(file)}: .gz = gzip, .zst = zstd, otherwise plain text)`,
      },
    );
  } finally {
    lines.close();
    input.destroy();
  }
}
