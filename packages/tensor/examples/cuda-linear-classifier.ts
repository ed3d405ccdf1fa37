// The README's CUDA example, run by test/cuda/example.test.ts on the CPU emulator of the driver
// (on a machine with an NVIDIA GPU it runs on the GPU as it is).
// region readme
import { crossEntropy, noGrad, randn, setBackend, tensor, tidy } from '@lrw/tensor';
import type { CudaBackend } from '@lrw/tensor/cuda';

export async function trainOnCuda(steps = 20): Promise<number[]> {
  // Loads on first use: the NVIDIA driver, cuBLAS and the kernels, through koffi.
  const gpu = (await setBackend('cuda')) as CudaBackend; // new tensors live on the GPU now
  gpu.setTf32(false); // fp32 products, as the CPU (true: TF32 tensor cores)
  const w = randn([4, 3], { seed: 1, std: 0.1 }).requireGrad(); // (C, V)
  const x = randn([8, 4], { seed: 2 }); // (N, C)
  const y = tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: 'int32' }); // (N)
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = tidy(() => {
      const l = crossEntropy(x.matmul(w), y).mean(); // cuBLAS product, fused cross-entropy
      l.backward();
      return l;
    });
    noGrad(() => w.sub_(w.grad!, 0.5)); // queued on the stream; nothing waits here
    w.zeroGrad();
    losses.push(await loss.item()); // reads are async (pinned staging, an event polled)
    loss.dispose();
  }
  console.log(gpu.device.name, gpu.memory()); // exact counts: w, x, y live, the rest pooled
  for (const t of [w, x, y]) t.dispose();
  await setBackend('cpu');
  return losses;
}
// endregion readme
