// Kernel attributes typed by name (`KernelAttrs`): what the compiler accepts (`npm run typecheck`
// compiles this file) and what the kernels see at run time.
import { describe, expect, it } from 'vitest';
import {
  type Backend,
  type BackendMemory,
  type Buf,
  type CpuKernel,
  cpuReferenceKernels,
  createCpuBackend,
  type DType,
  type KernelCall,
  type KernelName,
  loadBackend,
  registerBackend,
  tensor,
  tidy,
} from './index.js';

/** A backend written against the untyped call (no kernel name argument) still compiles. */
class UntypedCallBackend implements Backend {
  readonly name = 'untyped';
  readonly inners: unknown[] = [];
  alloc(bytes: number): Buf {
    return { byteLength: bytes };
  }
  free(): void {}
  write(): void {}
  read(): Promise<ArrayBuffer> {
    return Promise.resolve(new ArrayBuffer(0));
  }
  run(call: KernelCall): void {
    this.inners.push(call.attrs.inner as number); // the loose record of an unknown kernel
  }
  supports(_kernel: KernelName, dtype: DType): boolean {
    return dtype === 'float32';
  }
  sync(): Promise<void> {
    return Promise.resolve();
  }
  memory(): BackendMemory {
    return { buffers: 0, bytes: 0, pooledBuffers: 0, pooledBytes: 0 };
  }
}

// A fill has a value, not an inner length: the compiler refuses the read.
// @ts-expect-error: 'inner' does not exist on the attributes of 'fill'
export const wrongAttribute = (call: KernelCall<'fill'>): number => call.attrs.inner;

describe('typed kernel attributes', () => {
  it('a kernel typed by name reads its attributes without a cast', async () => {
    const inners: number[] = [];
    const sum: CpuKernel<'sum'> = (call, cpu) => {
      inners.push(call.attrs.inner);
      cpuReferenceKernels.sum!(call, cpu);
    };
    registerBackend('cpu-typed-sum', () =>
      createCpuBackend({ name: 'cpu-typed-sum', kernels: { sum } }),
    );
    await loadBackend('cpu-typed-sum');
    const sums = tidy(() =>
      Array.from(
        tensor(
          [
            [1, 2, 3],
            [4, 5, 6],
          ],
          { backend: 'cpu-typed-sum' },
        )
          .sum(-1)
          .dataSync(),
      ),
    );
    expect(sums).toEqual([6, 15]);
    expect(inners).toEqual([3]);
  });

  it('a backend on the untyped call receives the same attributes', () => {
    const be = new UntypedCallBackend();
    const view = {
      buf: be.alloc(4),
      dtype: 'float32' as const,
      shape: [1],
      strides: [1],
      offset: 0,
    };
    be.run({ kernel: 'sum', inputs: [view], output: view, attrs: { inner: 4 } });
    expect(be.inners).toEqual([4]);
  });
});
