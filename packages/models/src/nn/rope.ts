/**
 * Rotary position embedding (Su et al. 2021, RoFormer) in Hugging Face Llama's "rotate half"
 * layout: the head dimension is split into halves (x1, x2) that rotate as pairs
 * (x1_i, x2_i) by angle t * theta^(-2i/D):  x * cos + rotate_half(x) * sin,
 * rotate_half(x) = concat(-x2, x1). Meta's original checkpoints interleave the pairs instead;
 * HF's converter permutes q/k weights, so weights in HF layout need no permutation here.
 */
import { concat, type Tensor, tensor } from '@lrw/tensor';

export class Rope {
  private cache: { T: number; cos: Float32Array; sin: Float32Array } | null = null;
  constructor(
    readonly headDim: number,
    readonly theta = 10000,
  ) {
    if (headDim % 2 !== 0) throw new RangeError(`Rope: head dimension ${headDim} must be even`);
  }

  /** cos and sin tables (T, D), each half repeated as in HF's `torch.cat((freqs, freqs), -1)`. */
  tables(T: number): { cos: Float32Array; sin: Float32Array } {
    if (this.cache && this.cache.T >= T) {
      const n = T * this.headDim;
      return { cos: this.cache.cos.subarray(0, n), sin: this.cache.sin.subarray(0, n) };
    }
    const D = this.headDim;
    const half = D / 2;
    const cos = new Float32Array(T * D);
    const sin = new Float32Array(T * D);
    for (let i = 0; i < half; i++) {
      // float32 inverse frequency, as HF computes it, then the angle in float32 precision
      const invFreq = Math.fround(1 / this.theta ** ((2 * i) / D));
      for (let t = 0; t < T; t++) {
        const a = Math.fround(t * invFreq);
        cos[t * D + i] = cos[t * D + i + half] = Math.cos(a);
        sin[t * D + i] = sin[t * D + i + half] = Math.sin(a);
      }
    }
    this.cache = { T, cos, sin };
    return { cos, sin };
  }

  /** x (B, H, T, D) -> (B, H, T, D), rotated by position. */
  apply(x: Tensor): Tensor {
    const T = x.shape[x.rank - 2];
    const D = this.headDim;
    const { cos, sin } = this.tables(T);
    const be = x.backend.name;
    const c = tensor(cos, { shape: [T, D], backend: be }); // (T, D)
    const s = tensor(sin, { shape: [T, D], backend: be }); // (T, D)
    const x1 = x.slice(-1, 0, D / 2); // (B, H, T, D/2)
    const x2 = x.slice(-1, D / 2); // (B, H, T, D/2)
    const rotated = concat([x2.neg(), x1], -1); // (B, H, T, D)
    return x.mul(c).add(rotated.mul(s));
  }
}
