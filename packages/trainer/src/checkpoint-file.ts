import { type FileHandle, open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { Packr } from 'msgpackr';
import { type AtomicWriteOptions, writeFileAtomic } from './atomic-write.js';
import { crc32 } from './crc32.js';
import { TrainerError } from './trainer-error.js';

/**
 * One checkpoint in one file: everything needed to resume bit-identically (STYLE.md habit 6: a
 * checkpoint is the sum of the `state()` of every stateful part plus the weights).
 *
 * Layout (all integers little-endian):
 *
 *   0  magic "LRWCKPT\0"            8 bytes
 *   8  format version               u32 (CHECKPOINT_VERSION)
 *  12  flags                        u32 (0; reserved)
 *  16  metadata length M            u64
 *  24  payload length P             u64
 *  32  CRC-32 of the metadata       u32
 *  36  CRC-32 of the payload        u32
 *  40  CRC-32 of bytes 0..40        u32
 *  44  zero padding to 48
 *  48  metadata: MessagePack (msgpackr, moreTypes) of { step, createdAt, tensors, optimizerState,
 *      parts, config }, where `tensors` lists { name, shape, offset, length } into the payload
 *      zero padding to a multiple of 64, so tensor data can be viewed in place
 *      payload: every tensor as raw little-endian float32, in `tensors` order
 *
 * Reading checks everything before returning anything, so a damaged file never half-loads.
 */
export const CHECKPOINT_MAGIC = 'LRWCKPT\0';
export const CHECKPOINT_VERSION = 1;
const PREAMBLE_BYTES = 48;
const PAYLOAD_ALIGN = 64;

/** A named float32 tensor: row-major data with its shape. */
export interface NamedTensor {
  shape: readonly number[];
  data: Float32Array;
}

export interface CheckpointContents {
  /** Optimizer steps completed when the checkpoint was taken. */
  step: number;
  /** Model parameters by name (the names of @lrw/models). */
  model: Record<string, NamedTensor>;
  /** Optimizer moments by name, plus its scalar state (step count, hyperparameters). */
  optimizer: { tensors: Record<string, NamedTensor>; state: unknown };
  /**
   * `state()` of every other stateful part, by name: data stream, RNG, LR and temperature
   * schedules, reweighter, step guard, metrics offset. Any MessagePack-able value, including
   * typed arrays, BigInt and nested objects.
   */
  parts: Record<string, unknown>;
  /** The run's config, as given. */
  config: unknown;
}

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

interface Metadata {
  step: number;
  createdAt: string;
  tensors: TensorEntry[];
  optimizerState: unknown;
  parts: Record<string, unknown>;
  config: unknown;
}

const packr = new Packr({ moreTypes: true, useRecords: false, int64AsType: 'bigint' });
const LITTLE_ENDIAN = endianness() === 'LE';
const MODEL_PREFIX = 'model/';
const OPTIMIZER_PREFIX = 'optimizer/';

function checkTensor(name: string, tensor: NamedTensor): number[] {
  const shape = Array.from(tensor?.shape ?? [], Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (
    !(tensor?.data instanceof Float32Array) ||
    !shape.every((d) => Number.isInteger(d) && d >= 0)
  ) {
    throw new TrainerError(
      'invalid-argument',
      `Checkpoint tensor "${name}" is not { shape: number[], data: Float32Array }.`,
      'copy the tensor to the host as a Float32Array before saving.',
    );
  }
  if (count !== tensor.data.length) {
    throw new TrainerError(
      'invalid-argument',
      `Checkpoint tensor "${name}" has shape [${shape.join(', ')}] (${count} values) but ${tensor.data.length} values of data.`,
      'pass the shape of the data being saved.',
    );
  }
  return shape;
}

function littleEndianBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return out;
}

function pad(n: number): number {
  return (PAYLOAD_ALIGN - (n % PAYLOAD_ALIGN)) % PAYLOAD_ALIGN;
}

function preamble(
  metadataLength: number,
  payloadLength: number,
  metaCrc: number,
  payloadCrc: number,
): Uint8Array {
  const bytes = new Uint8Array(PREAMBLE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(CHECKPOINT_MAGIC), 0);
  view.setUint32(8, CHECKPOINT_VERSION, true);
  view.setUint32(12, 0, true);
  view.setBigUint64(16, BigInt(metadataLength), true);
  view.setBigUint64(24, BigInt(payloadLength), true);
  view.setUint32(32, metaCrc, true);
  view.setUint32(36, payloadCrc, true);
  view.setUint32(40, crc32(bytes.subarray(0, 40)), true);
  return bytes;
}

/** Writes all of `bytes` at `position`, in chunks of at most 16 MiB (no giant single syscalls). */
async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  const chunk = 16 * 2 ** 20;
  let done = 0;
  while (done < bytes.length) {
    const length = Math.min(chunk, bytes.length - done);
    const { bytesWritten } = await handle.write(bytes, done, length, position + done);
    done += bytesWritten;
  }
}

/**
 * Writes `contents` to `path` atomically (temporary file, fsync, rename, fsync of the directory).
 * Tensors are streamed, so saving needs no second copy of the weights in memory.
 */
export async function writeCheckpointFile(
  path: string,
  contents: CheckpointContents,
  options: AtomicWriteOptions = {},
): Promise<void> {
  if (!Number.isInteger(contents.step) || contents.step < 0) {
    throw new TrainerError(
      'invalid-argument',
      `Checkpoint step = ${String(contents.step)} is invalid.`,
      'pass the number of optimizer steps completed, a whole number >= 0.',
    );
  }
  const sources: [string, Record<string, NamedTensor>][] = [
    [MODEL_PREFIX, contents.model ?? {}],
    [OPTIMIZER_PREFIX, contents.optimizer?.tensors ?? {}],
  ];
  const tensors: TensorEntry[] = [];
  const data: Float32Array[] = [];
  let offset = 0;
  for (const [prefix, group] of sources) {
    for (const [name, tensor] of Object.entries(group)) {
      const shape = checkTensor(prefix + name, tensor);
      tensors.push({ name: prefix + name, shape, offset, length: tensor.data.length });
      data.push(tensor.data);
      offset += tensor.data.byteLength;
    }
  }
  const metadata: Metadata = {
    step: contents.step,
    createdAt: new Date().toISOString(),
    tensors,
    optimizerState: contents.optimizer?.state ?? null,
    parts: contents.parts ?? {},
    config: contents.config ?? null,
  };
  const metaBytes: Uint8Array = packr.pack(metadata);
  const payloadStart = PREAMBLE_BYTES + metaBytes.length + pad(PREAMBLE_BYTES + metaBytes.length);
  await writeFileAtomic(
    path,
    async (handle) => {
      await writeAll(handle, metaBytes, PREAMBLE_BYTES);
      let position = payloadStart;
      let payloadCrc = 0;
      for (const tensor of data) {
        const bytes = littleEndianBytes(tensor);
        payloadCrc = crc32(bytes, payloadCrc);
        await writeAll(handle, bytes, position);
        position += bytes.length;
      }
      if (position === payloadStart) await handle.truncate(payloadStart); // padding of an empty payload
      await writeAll(handle, preamble(metaBytes.length, offset, crc32(metaBytes), payloadCrc), 0);
    },
    options,
  );
}

function damaged(
  code: 'checkpoint-truncated' | 'checkpoint-corrupt' | 'checkpoint-version',
  path: string,
  what: string,
  hint?: string,
): TrainerError {
  return new TrainerError(
    code,
    `Checkpoint ${path}: ${what}.`,
    hint ??
      'the file is damaged (an interrupted copy, a full disk or bad storage); resume from an ' +
        'earlier checkpoint in the same directory, if there is one, or start again.',
  );
}

async function readExactly(
  handle: FileHandle,
  into: Uint8Array,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/**
 * Reads and fully verifies a checkpoint file. Throws a TrainerError with a HINT when the file is
 * missing, truncated, corrupt or of another format version; never returns partial contents.
 */
export async function readCheckpointFile(path: string): Promise<CheckpointContents> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new TrainerError(
      'checkpoint-not-found',
      `Checkpoint ${path} cannot be opened (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      'check the path; a run directory keeps its checkpoints under checkpoints/.',
      { cause: error },
    );
  }
  try {
    return await readVerified(handle, path);
  } finally {
    await handle.close();
  }
}

async function readVerified(handle: FileHandle, path: string): Promise<CheckpointContents> {
  const size = (await handle.stat()).size;
  const head = new Uint8Array(PREAMBLE_BYTES);
  const got = await readExactly(handle, head, 0);
  const magic = new TextDecoder().decode(head.subarray(0, 8));
  if (got >= 8 && magic !== CHECKPOINT_MAGIC) {
    throw damaged(
      'checkpoint-corrupt',
      path,
      `does not start with the checkpoint magic "LRWCKPT" (found ${JSON.stringify(magic)})`,
      'this is not an lrw checkpoint file; pass a *.lrwckpt file or a checkpoints directory.',
    );
  }
  if (got < PREAMBLE_BYTES) {
    throw damaged(
      'checkpoint-truncated',
      path,
      `is ${size} bytes, shorter than its ${PREAMBLE_BYTES}-byte header`,
    );
  }
  const view = new DataView(head.buffer);
  const version = view.getUint32(8, true);
  if (view.getUint32(40, true) !== crc32(head.subarray(0, 40))) {
    throw damaged('checkpoint-corrupt', path, 'header checksum mismatch');
  }
  if (version !== CHECKPOINT_VERSION) {
    throw damaged(
      'checkpoint-version',
      path,
      `format version ${version}, this @lrw/trainer reads version ${CHECKPOINT_VERSION}`,
      version > CHECKPOINT_VERSION
        ? 'it was written by a newer @lrw/trainer: upgrade @lrw/trainer to resume from it.'
        : 'it was written by an older @lrw/trainer: resume with that version, or start again.',
    );
  }
  const metaLength = Number(view.getBigUint64(16, true));
  const payloadLength = Number(view.getBigUint64(24, true));
  const payloadStart = PREAMBLE_BYTES + metaLength + pad(PREAMBLE_BYTES + metaLength);
  const expected = payloadStart + payloadLength;
  if (size < expected) {
    throw damaged(
      'checkpoint-truncated',
      path,
      `is ${size} bytes but its header says ${expected}: it is truncated`,
    );
  }
  if (size > expected) {
    throw damaged(
      'checkpoint-corrupt',
      path,
      `is ${size} bytes but its header says ${expected}: trailing bytes`,
    );
  }
  const metaBytes = new Uint8Array(metaLength);
  await readExactly(handle, metaBytes, PREAMBLE_BYTES);
  if (crc32(metaBytes) !== view.getUint32(32, true)) {
    throw damaged('checkpoint-corrupt', path, 'metadata checksum mismatch');
  }
  let metadata: Metadata;
  try {
    metadata = packr.unpack(metaBytes) as Metadata;
  } catch (error) {
    throw damaged('checkpoint-corrupt', path, `metadata cannot be decoded (${String(error)})`);
  }
  const model: Record<string, NamedTensor> = {};
  const optimizerTensors: Record<string, NamedTensor> = {};
  let payloadCrc = 0;
  let position = 0;
  for (const entry of metadata.tensors) {
    if (entry.offset !== position || entry.offset + entry.length * 4 > payloadLength) {
      throw damaged('checkpoint-corrupt', path, `tensor "${entry.name}" lies outside the payload`);
    }
    const data = new Float32Array(entry.length);
    const bytes = new Uint8Array(data.buffer);
    await readExactly(handle, bytes, payloadStart + entry.offset);
    payloadCrc = crc32(bytes, payloadCrc);
    if (!LITTLE_ENDIAN) {
      const v = new DataView(data.buffer);
      for (let i = 0; i < data.length; i++) data[i] = v.getFloat32(i * 4, true);
    }
    position += bytes.length;
    const tensor = { shape: entry.shape, data };
    if (entry.name.startsWith(MODEL_PREFIX)) model[entry.name.slice(MODEL_PREFIX.length)] = tensor;
    else optimizerTensors[entry.name.slice(OPTIMIZER_PREFIX.length)] = tensor;
  }
  if (position !== payloadLength || payloadCrc !== view.getUint32(36, true)) {
    throw damaged('checkpoint-corrupt', path, 'tensor data checksum mismatch');
  }
  return {
    step: metadata.step,
    model,
    optimizer: { tensors: optimizerTensors, state: metadata.optimizerState },
    parts: metadata.parts,
    config: metadata.config,
  };
}
