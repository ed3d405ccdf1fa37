import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
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

/**
 * Lines of a (possibly compressed) UTF-8 text file, with 1-based line numbers and whether the
 * line's bytes were valid UTF-8 (invalid sequences are decoded as U+FFFD). Lines end at "\n"
 * (a "\r" before it is dropped); splitting the bytes before decoding keeps a multi-byte character
 * that straddles two reads intact and lets each line be checked on its own.
 */
export async function* readLines(file: string): AsyncGenerator<[string, number, boolean]> {
  const input = openDecompressed(file);
  let n = 0;
  let pending: Buffer[] = [];
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        const piece = chunk.subarray(start, nl);
        const line = pending.length > 0 ? Buffer.concat([...pending, piece]) : piece;
        pending = [];
        start = nl + 1;
        yield decodeLine(line, ++n);
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    }
    if (pending.length > 0) yield decodeLine(Buffer.concat(pending), ++n);
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
    input.destroy();
  }
}

function decodeLine(bytes: Buffer, n: number): [string, number, boolean] {
  const end =
    bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
  const line = bytes.subarray(0, end);
  return [line.toString('utf8'), n, isUtf8(line)];
}

/** False for a string with unpaired surrogates (JSON escapes such as "\ud800"), which encode as U+FFFD. */
export function wellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}
