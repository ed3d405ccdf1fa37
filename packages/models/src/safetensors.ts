/**
 * Safetensors (Hugging Face's format, https://huggingface.co/docs/safetensors): an 8-byte
 * little-endian header length N, N bytes of JSON, then raw little-endian tensor data. The JSON
 * maps each name to {dtype, shape, data_offsets: [begin, end)} relative to the data start, plus
 * an optional "__metadata__" of string pairs. Parsing validates as the reference implementation
 * does: known dtypes, byte sizes that match the shapes, entries in range, no overlap, no gap, and
 * no unindexed byte left at the end (so truncation and corruption are caught, not read as data).
 */
import { dirname, mkdir, readFile, writeFileAtomic } from './platform/node.js';

export type SafetensorsDType =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL'
  | 'F8_E4M3'
  | 'F8_E5M2';

export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export interface SafetensorsEntry {
  dtype: SafetensorsDType;
  shape: number[];
  /** The raw little-endian bytes (a view into the file's buffer). */
  data: Uint8Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsEntry>;
}

/** A tensor to write: float32 data is encoded to `dtype` (F32, F16 or BF16); int32 as I32. */
export interface SafetensorsInput {
  shape: readonly number[];
  data: Float32Array | Int32Array;
  /** Stored dtype (default F32 for float data, I32 for int data). */
  dtype?: 'F32' | 'F16' | 'BF16' | 'I32';
}

/** A malformed or unsupported safetensors file; the message names the file and the fix. */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}

const MAX_HEADER = 100_000_000; // the reference implementation's limit

function hostIsLittleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

/** Parses and validates safetensors bytes. `source` names the file in errors. */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  const fail = (what: string, hint: string): never => {
    throw new SafetensorsError(`${source}: ${what}. HINT: ${hint}`);
  };
  const damaged = 'the file is truncated or not safetensors; re-download or re-save it';
  if (bytes.length < 8) fail(`only ${bytes.length} bytes, no 8-byte header length`, damaged);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER) fail(`header length ${n} exceeds ${MAX_HEADER} bytes`, damaged);
  if (8 + n > bytes.length) {
    fail(`header length ${n} runs past the end of the file (${bytes.length} bytes)`, damaged);
  }
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
    if (!text.startsWith('{')) throw new Error('does not start with {');
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not a UTF-8 JSON object (${(e as Error).message})`, damaged);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail('header is not a JSON object', damaged);
  }
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsEntry>();
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        fail('__metadata__ is not an object of strings', damaged);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`, damaged);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`entry '${name}' is not an object`, damaged);
    const dtype = e.dtype as SafetensorsDType;
    if (typeof dtype !== 'string' || !(dtype in SAFETENSORS_DTYPE_BYTES)) {
      fail(
        `tensor '${name}' has unknown dtype ${JSON.stringify(e.dtype)}`,
        `supported: ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')}`,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has invalid shape ${JSON.stringify(shape)}`, damaged);
    }
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offs[0] > offs[1]
    ) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`, damaged);
    }
    const [begin, end] = offs as [number, number];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const want = numel * SAFETENSORS_DTYPE_BYTES[dtype];
    if (end - begin !== want) {
      fail(
        `tensor '${name}' (${dtype} [${shape}]) spans ${end - begin} bytes; its shape needs ${want}`,
        damaged,
      );
    }
    if (end > dataLength) {
      fail(
        `tensor '${name}' ends at data byte ${end}, past the ${dataLength} data bytes present`,
        damaged,
      );
    }
    spans.push([begin, end, name]);
    tensors.set(name, {
      dtype,
      shape: shape as number[],
      data: bytes.subarray(dataStart + begin, dataStart + end),
    });
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cursor = 0;
  for (const [begin, end, name] of spans) {
    if (begin < cursor) fail(`tensor '${name}' overlaps the tensor before it`, damaged);
    if (begin > cursor) fail(`${begin - cursor} unindexed bytes before tensor '${name}'`, damaged);
    cursor = end;
  }
  if (cursor !== dataLength) {
    fail(
      `${dataLength - cursor} bytes after the last tensor are not indexed by the header`,
      damaged,
    );
  }
  return { metadata, tensors };
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function f32ToF16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

/** An aligned copy or view of `data` as `Ctor` elements (little-endian host). */
function typed<T>(
  data: Uint8Array,
  Ctor: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number },
): T {
  const n = data.byteLength / Ctor.BYTES_PER_ELEMENT;
  if (data.byteOffset % Ctor.BYTES_PER_ELEMENT === 0)
    return new Ctor(data.buffer, data.byteOffset, n);
  const copy = data.slice();
  return new Ctor(copy.buffer, 0, n);
}

/** The entry's values as float32 (F64/F16/BF16 converted; integer and bool types cast). */
export function decodeFloat32(entry: SafetensorsEntry, name = 'tensor'): Float32Array {
  if (!hostIsLittleEndian()) {
    throw new SafetensorsError(`${name}: big-endian hosts are not supported`);
  }
  const d = entry.data;
  switch (entry.dtype) {
    case 'F32':
      return Float32Array.from(typed(d, Float32Array));
    case 'F64':
      return Float32Array.from(typed(d, Float64Array));
    case 'BF16': {
      const h = typed(d, Uint16Array);
      const u = new Uint32Array(h.length);
      for (let i = 0; i < h.length; i++) u[i] = h[i] << 16;
      return new Float32Array(u.buffer);
    }
    case 'F16': {
      const h = typed(d, Uint16Array);
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = f16ToF32(h[i]);
      return out;
    }
    case 'I64':
      return Float32Array.from(typed(d, BigInt64Array), (v) => Number(v));
    case 'U64':
      return Float32Array.from(typed(d, BigUint64Array), (v) => Number(v));
    case 'I32':
      return Float32Array.from(typed(d, Int32Array));
    case 'U32':
      return Float32Array.from(typed(d, Uint32Array));
    case 'I16':
      return Float32Array.from(typed(d, Int16Array));
    case 'U16':
      return Float32Array.from(typed(d, Uint16Array));
    case 'I8':
      return Float32Array.from(new Int8Array(d.buffer, d.byteOffset, d.byteLength));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(d);
    default:
      throw new SafetensorsError(
        `${name}: dtype ${entry.dtype} cannot be converted to float32 here; convert the file to F32/F16/BF16`,
      );
  }
}

function encode(input: SafetensorsInput, name: string): { dtype: string; bytes: Uint8Array } {
  const isInt = input.data instanceof Int32Array;
  const dtype = input.dtype ?? (isInt ? 'I32' : 'F32');
  const numel = input.shape.reduce((a, b) => a * b, 1);
  if (numel !== input.data.length) {
    throw new SafetensorsError(
      `serializeSafetensors: '${name}' has ${input.data.length} values for shape [${input.shape}] (${numel})`,
    );
  }
  if ((dtype === 'I32') !== isInt) {
    throw new SafetensorsError(
      `serializeSafetensors: '${name}' stores ${isInt ? 'Int32Array' : 'Float32Array'} data as ${dtype}; use I32 for int data and F32/F16/BF16 for float data`,
    );
  }
  const src = input.data;
  if (dtype === 'F32' || dtype === 'I32') {
    return { dtype, bytes: new Uint8Array(src.buffer, src.byteOffset, src.byteLength).slice() };
  }
  const out = new Uint16Array(src.length);
  if (dtype === 'BF16') {
    const u = new Uint32Array(Float32Array.from(src).buffer);
    for (let i = 0; i < u.length; i++) {
      const x = u[i];
      // round to nearest even; NaN stays NaN
      out[i] =
        (x & 0x7fffffff) > 0x7f800000 ? (x >>> 16) | 0x40 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
    }
  } else {
    for (let i = 0; i < src.length; i++) out[i] = f32ToF16(src[i]);
  }
  return { dtype, bytes: new Uint8Array(out.buffer) };
}

/**
 * Serializes tensors (sorted by name) with optional string metadata. The header is padded with
 * spaces to a multiple of 8 bytes, so the data starts 8-byte aligned.
 */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsInput> | Readonly<Record<string, SafetensorsInput>>,
  metadata?: Record<string, string>,
): Uint8Array {
  if (!hostIsLittleEndian()) throw new SafetensorsError('big-endian hosts are not supported');
  const entries = [...(tensors instanceof Map ? tensors : Object.entries(tensors))].sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
  ) as [string, SafetensorsInput][];
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__')
      throw new SafetensorsError('a tensor cannot be named __metadata__');
    const { dtype, bytes } = encode(t, name);
    // Packed without gaps (the format forbids them); readers copy data that lands misaligned.
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    blobs.push(bytes);
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** Reads and validates a .safetensors file. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  const bytes = await readFile(path);
  return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/**
 * Serializes and writes a .safetensors file atomically (@lrw/atomic-file: temporary file,
 * fsync, rename, folder fsync), creating its folder if needed.
 */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, SafetensorsInput> | Readonly<Record<string, SafetensorsInput>>,
  metadata?: Record<string, string>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
