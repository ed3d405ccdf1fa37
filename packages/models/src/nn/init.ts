/**
 * Parameter creation from one seeded Philox generator: modules draw their initial values in
 * construction order, so the same seed and config give bit-identical weights on every backend.
 */
import { Generator, ones, randn, type Tensor, zeros } from '@lrw/tensor';

export class ParamInit {
  readonly generator: Generator;
  constructor(
    seed: number,
    /** Backend for the parameters (default: the current backend). */
    readonly backend?: string,
  ) {
    this.generator = new Generator(seed);
  }
  /** N(0, std^2) draws. */
  normal(shape: readonly number[], std: number): Tensor {
    return randn(shape, { generator: this.generator, std, backend: this.backend });
  }
  zeros(shape: readonly number[]): Tensor {
    return zeros(shape, { backend: this.backend });
  }
  ones(shape: readonly number[]): Tensor {
    return ones(shape, { backend: this.backend });
  }
}
