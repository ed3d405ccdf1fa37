import { describe, expect, it } from 'vitest';
import {
  backendNames,
  createCpuBackend,
  getBackend,
  loadBackend,
  memory,
  type Routine,
  randn,
  registerBackend,
  setBackend,
  softmax,
  type Tensor,
  tensor,
  tidy,
  UnsupportedOpError,
} from './index.js';
import { runConformanceSuite } from './testing/index.js';

describe('backend registry', () => {
  it('loads registered backends lazily, once', async () => {
    let made = 0;
    registerBackend('lazy-cpu', async () => {
      made++;
      return createCpuBackend({ name: 'lazy-cpu' });
    });
    expect(backendNames()).toContain('lazy-cpu');
    expect(made).toBe(0);
    expect(() => getBackend('lazy-cpu')).toThrow(/not loaded; await setBackend/);
    const [a, b] = await Promise.all([loadBackend('lazy-cpu'), loadBackend('lazy-cpu')]);
    expect(a).toBe(b);
    expect(made).toBe(1);
    await setBackend('lazy-cpu');
    const t = tensor([1, 2]);
    expect(t.backend.name).toBe('lazy-cpu');
    await setBackend('cpu');
    const u = tensor([1, 2]);
    expect(() => t.add(u)).toThrow(/different backends/);
    const moved = await t.to('cpu');
    expect(moved.add(u).toArraySync()).toEqual([2, 4]);
    for (const x of [t, u, moved]) x.dispose();
  });

  it('names unknown backends and failed loads clearly', async () => {
    await expect(loadBackend('nope')).rejects.toThrow(/no backend named 'nope'; registered: cpu/);
    registerBackend('no-driver', () => {
      throw new Error('no CUDA driver found (libcuda.so.1); install the NVIDIA driver or use cpu');
    });
    await expect(loadBackend('no-driver')).rejects.toThrow(/no CUDA driver/);
  });

  it('raises UnsupportedOpError(op, dtype, backend) for a missing kernel', async () => {
    registerBackend('cpu-no-tanh', () => {
      const b = createCpuBackend({ name: 'cpu-no-tanh' });
      // A backend with a kernel gap: simulate by wrapping run.
      const run = b.run.bind(b);
      b.run = (call) => {
        if (call.kernel === 'tanh') throw new UnsupportedOpError('tanh', call.output.dtype, b.name);
        run(call);
      };
      return b;
    });
    await loadBackend('cpu-no-tanh');
    const x = tensor([1], { backend: 'cpu-no-tanh' });
    let err: unknown;
    try {
      x.tanh();
    } catch (e) {
      err = e;
    }
    expect(UnsupportedOpError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({ op: 'tanh', dtype: 'float32', backend: 'cpu-no-tanh' });
    x.dispose();
  });
});

describe('swappable kernels and fused routines', () => {
  it('a replacement kernel is used by every op that needs it, without touching ops', async () => {
    let calls = 0;
    registerBackend('cpu-counting-matmul', () => {
      const b = createCpuBackend({ name: 'cpu-counting-matmul' });
      const ref = b.kernel('matmul')!;
      b.registerKernel('matmul', (call, cpu) => {
        calls++;
        ref(call, cpu);
      });
      return b;
    });
    const report = await runConformanceSuite('cpu-counting-matmul', {
      only: ['matmul', 'scaledDotProductAttention'],
    });
    expect(report.failed).toEqual([]);
    expect(calls).toBeGreaterThan(10);
  });

  it('a routine replaces a composite op (forward and backward) and must pass the same suite', async () => {
    let used = 0;
    // A fused softmax: one exp pass, gradient y * (g - sum(g y)).
    const fused: Routine = {
      forward: ([x], attrs: { axis: number }, ctx) => {
        used++;
        const y = tidy(() => {
          const e = x.sub(x.max(attrs.axis, true)).exp();
          return e.div(e.sum(attrs.axis, true));
        });
        ctx.save(y);
        return y;
      },
      backward: (g, ctx) => {
        const [y] = ctx.saved;
        const axis = (ctx.attrs as { axis: number }).axis;
        return [y.mul(g.sub(g.mul(y).sum(axis, true)))];
      },
    };
    registerBackend('cpu-fused-softmax', () =>
      createCpuBackend({ name: 'cpu-fused-softmax', routines: { softmax: fused } }),
    );
    const good = await runConformanceSuite('cpu-fused-softmax', { only: ['softmax'] });
    expect(good.failed).toEqual([]);
    expect(good.passed.length).toBe(4);
    expect(used).toBeGreaterThan(0);

    // A wrong gradient rule is caught by the finite-difference check.
    const wrong: Routine = { forward: fused.forward, backward: (g, ctx) => [g.mul(ctx.saved[0])] };
    registerBackend('cpu-wrong-softmax-grad', () =>
      createCpuBackend({ name: 'cpu-wrong-softmax-grad', routines: { softmax: wrong } }),
    );
    const bad = await runConformanceSuite('cpu-wrong-softmax-grad', { only: ['softmax'] });
    expect(bad.failed.map((f) => f.name).every((n) => n.includes('gradient'))).toBe(true);
    expect(bad.failed.length).toBe(2);
  });

  it('a routine without backward is used only when no gradient is needed', async () => {
    let used = 0;
    const fwdOnly: Routine = {
      forward: ([x]) => {
        used++;
        return x.mul(1);
      },
    };
    registerBackend('cpu-fwd-only', () =>
      createCpuBackend({ name: 'cpu-fwd-only', routines: { gelu: fwdOnly } }),
    );
    await loadBackend('cpu-fwd-only');
    const x = randn([3], { seed: 1, backend: 'cpu-fwd-only' });
    tidy(() => x.gelu());
    expect(used).toBe(1);
    x.requireGrad();
    tidy(() => x.gelu().sum().backward());
    expect(used).toBe(1); // the composition ran
    x.dispose();
  });
});

describe('CPU backend memory', () => {
  it('can place all storage in one big buffer (as a wasm fast path would) and still conform', async () => {
    const arena = new ArrayBuffer(1 << 22);
    let top = 0;
    let released = 0;
    registerBackend('cpu-arena', () =>
      createCpuBackend({
        name: 'cpu-arena',
        maxPooledBytes: 4096,
        allocateBlock: (bytes) => {
          if (top + bytes > arena.byteLength) top = 0; // a toy ring: enough for small checks
          const at = top;
          top += Math.ceil(bytes / 16) * 16;
          return {
            u8: new Uint8Array(arena, at, bytes),
            f32: new Float32Array(arena, at, bytes / 4),
            i32: new Int32Array(arena, at, bytes / 4),
          };
        },
        releaseBlock: () => {
          released++;
        },
      }),
    );
    const report = await runConformanceSuite('cpu-arena', {
      only: ['matmul', 'gather', 'layerNorm', 'concat'],
    });
    expect(report.failed).toEqual([]);
    expect(report.passed.length).toBeGreaterThan(10);
    expect(top).toBeGreaterThan(0);
    expect(released).toBeGreaterThan(0);
  });

  it('counts buffers exactly and reuses pooled ones', () => {
    const be = createCpuBackend({ name: 'pool-test' });
    const a = be.alloc(40);
    const b = be.alloc(40);
    expect(be.memory()).toMatchObject({ buffers: 2, bytes: 80, pooledBuffers: 0 });
    be.free(a);
    expect(be.memory()).toMatchObject({ buffers: 1, bytes: 40, pooledBuffers: 1, pooledBytes: 40 });
    be.alloc(40);
    expect(be.memory()).toMatchObject({ buffers: 2, pooledBuffers: 0 });
    expect(() => be.free(a)).toThrow(/already freed/);
    be.free(b);
    be.emptyPool();
    expect(be.memory().pooledBytes).toBe(0);
  });

  it('softmax of a big row is stable and memory returns to baseline', () => {
    const before = memory();
    const out: Tensor = tidy(() => softmax(tensor([1000, 1001, 1002])));
    const v = out.dataSync();
    expect(v[2]).toBeCloseTo(0.6652409, 6);
    out.dispose();
    expect(memory().buffers).toBe(before.buffers);
  });
});
