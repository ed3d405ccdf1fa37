/**
 * Packing kernel parameters. Every kernel takes one struct of 8-byte fields (cuda/common.cuh),
 * so its parameter block is a flat array of 64-bit words in field order: integers and device
 * pointers as two's-complement int64, scalars as float64. `Args` writes them into a buffer
 * (the native launch arena) and counts the bytes, which cuLaunchKernel receives as
 * CU_LAUNCH_PARAM_BUFFER_SIZE (the CPU emulator checks it against the kernel's struct size).
 */
export class Args {
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private words = 0;

  constructor(readonly buffer: ArrayBuffer) {
    this.u32 = new Uint32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }

  reset(): this {
    this.words = 0;
    return this;
  }

  /** An int64 field (also device pointers, which are addresses below 2^53). */
  i(v: number): this {
    if (!Number.isSafeInteger(v))
      throw new RangeError(`kernel parameter ${v} is not a safe integer`);
    const k = this.words++ * 2;
    const hi = Math.floor(v / 4294967296);
    this.u32[k] = (v - hi * 4294967296) >>> 0;
    this.u32[k + 1] = hi >>> 0;
    return this;
  }

  /** `count` int64 fields from `values`, padded with `pad` (fixed-size arrays of a struct). */
  ints(values: readonly number[], count: number, pad = 0): this {
    if (values.length > count)
      throw new RangeError(`${values.length} values for an array of ${count}`);
    for (let j = 0; j < count; j++) this.i(j < values.length ? values[j]! : pad);
    return this;
  }

  /** A float64 field. */
  f(v: number): this {
    this.f64[this.words++] = v;
    return this;
  }

  get bytes(): number {
    return this.words * 8;
  }
}
