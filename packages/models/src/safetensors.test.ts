import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeFloat32,
  parseSafetensors,
  readSafetensors,
  SafetensorsError,
  serializeSafetensors,
  writeSafetensors,
} from './safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'lrw-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file from a hand-written header and data (for corruption cases). */
function craft(header: unknown, dataBytes: number, pad = true): Uint8Array {
  let json = new TextEncoder().encode(JSON.stringify(header));
  if (pad && json.length % 8) {
    const p = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe('safetensors round trip', () => {
  it('save -> load gives identical tensors, shapes, dtypes and metadata', async () => {
    const a = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 1e3);
    const b = Int32Array.from([1, -2, 3, 2147483647]);
    const path = join(dir, 'rt.safetensors');
    await writeSafetensors(
      path,
      {
        'x.weight': { shape: [3, 4], data: a },
        ids: { shape: [4], data: b },
        empty: { shape: [0, 3], data: new Float32Array(0) },
      },
      { format: 'pt' },
    );
    const f = await readSafetensors(path);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect([...f.tensors.keys()].sort()).toEqual(['empty', 'ids', 'x.weight']);
    const x = f.tensors.get('x.weight')!;
    expect(x.dtype).toBe('F32');
    expect(x.shape).toEqual([3, 4]);
    expect(decodeFloat32(x)).toEqual(a);
    expect(f.tensors.get('ids')!.dtype).toBe('I32');
    expect([...new Int32Array(f.tensors.get('ids')!.data.slice().buffer)]).toEqual([...b]);
    expect(f.tensors.get('empty')!.shape).toEqual([0, 3]);
    // header length is a multiple of 8 (aligned data)
    const bytes = readFileSync(path);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
  });

  it('encodes BF16 and F16 with round-to-nearest-even (known bit patterns)', () => {
    const v = Float32Array.from([1, -2, 0.1, 65504, 1e-7, 3.140625]);
    const bytes = serializeSafetensors({
      h: { shape: [6], data: v, dtype: 'F16' },
      b: { shape: [6], data: v, dtype: 'BF16' },
    });
    const f = parseSafetensors(bytes);
    const h = f.tensors.get('h')!;
    const words = new Uint16Array(h.data.slice().buffer);
    // 1 -> 0x3c00, -2 -> 0xc000, 0.1 -> 0x2e66, 65504 -> 0x7bff (max half), 1e-7 -> subnormal 2
    expect([...words.slice(0, 5)]).toEqual([0x3c00, 0xc000, 0x2e66, 0x7bff, 0x0002]);
    const hd = decodeFloat32(h);
    expect(hd[2]).toBeCloseTo(0.0999755859375, 10);
    expect(hd[5]).toBe(3.140625);
    const bw = new Uint16Array(f.tensors.get('b')!.data.slice().buffer);
    // bf16: 1 -> 0x3f80, -2 -> 0xc000, 0.1 -> 0x3dcd (rounded up)
    expect([...bw.slice(0, 3)]).toEqual([0x3f80, 0xc000, 0x3dcd]);
    expect(decodeFloat32(f.tensors.get('b')!)[5]).toBe(3.140625);
  });

  it('reads F64 and I64 entries written by another writer', () => {
    const bytes = craft(
      {
        a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
        n: { dtype: 'I64', shape: [1], data_offsets: [16, 24] },
      },
      24,
    );
    const start = bytes.length - 24;
    const dv = new DataView(bytes.buffer);
    dv.setFloat64(start, 0.5, true);
    dv.setFloat64(start + 8, -3.25, true);
    dv.setBigInt64(start + 16, -7n, true);
    const f = parseSafetensors(bytes);
    expect([...decodeFloat32(f.tensors.get('a')!)]).toEqual([0.5, -3.25]);
    expect([...decodeFloat32(f.tensors.get('n')!)]).toEqual([-7]);
  });
});

describe('safetensors validation', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: [string, Uint8Array, RegExp][] = [
    ['fewer than 8 bytes', new Uint8Array(5), /no 8-byte header length/],
    [
      'header past the end',
      (() => {
        const b = craft(ok, 8);
        new DataView(b.buffer).setBigUint64(0, 1000n, true);
        return b;
      })(),
      /runs past the end/,
    ],
    [
      'header not JSON',
      (() => {
        const b = craft(ok, 8);
        b[8] = 0x78; // 'x'
        return b;
      })(),
      /not a UTF-8 JSON object/,
    ],
    [
      'unknown dtype',
      craft({ a: { dtype: 'F12', shape: [2], data_offsets: [0, 8] } }, 8),
      /unknown dtype "F12"/,
    ],
    [
      'bad shape',
      craft({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8),
      /invalid shape/,
    ],
    [
      'size mismatch',
      craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8),
      /spans 8 bytes; its shape needs 12/,
    ],
    [
      'reversed offsets',
      craft({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, 8),
      /invalid data_offsets/,
    ],
    [
      'out of range',
      craft({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8),
      /past the 8 data bytes/,
    ],
    [
      'overlap',
      craft(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        12,
      ),
      /overlaps/,
    ],
    [
      'gap',
      craft({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8),
      /4 unindexed bytes before tensor 'a'/,
    ],
    ['trailing bytes', craft(ok, 12), /4 bytes after the last tensor/],
    [
      'metadata not strings',
      craft({ __metadata__: { n: 1 }, ...ok }, 8),
      /__metadata__.n is not a string/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(`refuses ${what} with a clear error`, () => {
      expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(SafetensorsError);
      expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(message);
      expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(/bad\.safetensors: .*HINT/);
    });
  }

  it('a truncated file names the file and the missing bytes', async () => {
    const path = join(dir, 'cut.safetensors');
    await writeSafetensors(path, { w: { shape: [64], data: new Float32Array(64).fill(1) } });
    const full = readFileSync(path);
    writeFileSync(path, full.subarray(0, full.length - 10));
    await expect(readSafetensors(path)).rejects.toThrow(
      /cut\.safetensors: tensor 'w' ends at data byte 256, past the 246 data bytes present/,
    );
  });

  it('refuses data of the wrong kind for the stored dtype', () => {
    expect(() =>
      serializeSafetensors({ a: { shape: [1], data: new Int32Array(1), dtype: 'F32' } }),
    ).toThrow(/use I32 for int data/);
    expect(() => serializeSafetensors({ a: { shape: [2], data: new Float32Array(1) } })).toThrow(
      /1 values for shape \[2\]/,
    );
  });
});
