import { concat, noGrad, type Tensor, tidy } from '@lrw/tensor';

/**
 * All parameters' gradients as one host vector, in parameter order, with zeros where a parameter
 * has no gradient: on host-memory backends read straight into place, elsewhere concatenated on
 * the device and read back once (one transfer, whatever the number of parameters).
 */
export async function flatGradient(params: Tensor[]): Promise<Float32Array> {
  const total = params.reduce((s, p) => s + p.size, 0);
  const flat = new Float32Array(total);
  const withGrad = params.filter((p) => p.grad);
  if (withGrad.length === 0) return flat;
  if (withGrad.every((p) => p.backend.readSync !== undefined)) {
    // host memory: each gradient straight into its place
    let at = 0;
    for (const p of params) {
      if (p.grad) p.grad.dataSyncInto(flat.subarray(at, at + p.size));
      at += p.size;
    }
    return flat;
  }
  const device = noGrad(() => tidy(() => concat(withGrad.map((p) => p.grad!.reshape([p.size])))));
  let host: Float32Array;
  try {
    host = (await device.data()) as Float32Array;
  } finally {
    device.dispose();
  }
  let at = 0;
  let k = 0;
  for (const p of params) {
    if (p.grad) {
      flat.set(host.subarray(k, k + p.size), at);
      k += p.size;
    }
    at += p.size;
  }
  return flat;
}

/**
 * Writes `values`, laid out as `flatGradient` lays them out (parameter after parameter), back
 * into the parameters' gradients, in place; parameters without a gradient are skipped.
 */
export function assignFlatGradient(params: readonly Tensor[], values: Float32Array): void {
  noGrad(() => {
    let at = 0;
    for (const p of params) {
      p.grad?.assignData(values.subarray(at, at + p.size));
      at += p.size;
    }
  });
}
