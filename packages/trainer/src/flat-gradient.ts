import { concat, noGrad, type Tensor, tidy } from '@lrw/tensor';

/**
 * All parameters' gradients as one host vector, in parameter order, with zeros where a parameter
 * has no gradient: concatenated on the device and read back once (one transfer, whatever the
 * number of parameters).
 */
export async function flatGradient(params: Tensor[]): Promise<Float32Array> {
  const total = params.reduce((s, p) => s + p.size, 0);
  const flat = new Float32Array(total);
  const withGrad = params.filter((p) => p.grad);
  if (withGrad.length === 0) return flat;
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
