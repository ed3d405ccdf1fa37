// Checks of the gpujs backend beyond the conformance suite (exact memory accounting, texture
// reuse, limits, int32 storage, partial writes and reads, AdamW against the cpu backend). Plain
// JavaScript over the built package, so the same checks run in a browser page and in Node.
// Returns [{ name, error? }]; a check passes when it has no error.

/** Runs every check on the loaded backend `name` (created by `gpujs.createGpuJsBackend`). */
export async function gpuJsApiChecks(T, gpujs, name) {
  const results = [];
  const check = async (title, fn) => {
    try {
      await fn();
      results.push({ name: title });
    } catch (e) {
      results.push({ name: title, error: String(e?.stack ?? e) });
    }
  };
  const be = await T.loadBackend(name);
  const eq = (a, b, what) => {
    if (JSON.stringify(a) !== JSON.stringify(b))
      throw new Error(`${what}: ${JSON.stringify(a)} !== ${JSON.stringify(b)}`);
  };

  await check(
    'memory() counts each live texture and its exact bytes; freed textures are pooled and reused',
    async () => {
      be.emptyPool();
      const m0 = be.memory();
      const t = T.tensor(new Float32Array(1000).fill(1), { backend: name });
      const [w, h] = gpujs.textureSize(gpujs.capacityClass(1000));
      const m1 = be.memory();
      eq(m1.buffers - m0.buffers, 1, 'live textures after one tensor');
      eq(m1.bytes - m0.bytes, w * h * 16, 'bytes of an RGBA32F texture');
      t.dispose();
      const m2 = be.memory();
      eq(
        [m2.buffers, m2.bytes, m2.pooledBuffers],
        [m0.buffers, m0.bytes, m0.pooledBuffers + 1],
        'after dispose',
      );
      const created = be.texturesCreated;
      const u = T.tensor(new Float32Array(1000), { backend: name });
      eq(be.texturesCreated, created, 'textures created for a same-size tensor (pool reuse)');
      u.dispose();
    },
  );

  await check(
    'a chain of ops stays on the GPU: no new textures once the pool is warm, no leaks',
    async () => {
      const x = T.tensor(
        Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i)),
        { shape: [64, 64], backend: name },
      );
      const step = () => T.tidy(() => T.matmul(x, x).add(x).exp().sum());
      for (let i = 0; i < 2; i++) {
        const s = step();
        await s.data();
        s.dispose();
      }
      const created = be.texturesCreated;
      const before = be.memory().buffers;
      const launches = be.launches;
      let last;
      for (let i = 0; i < 5; i++) {
        const s = step();
        last = (await s.data())[0];
        s.dispose();
      }
      eq(be.texturesCreated, created, 'textures created after warm-up');
      eq(be.memory().buffers, before, 'live textures');
      if (!(be.launches - launches >= 5 * 4))
        throw new Error('expected at least 4 launches per step');
      if (!Number.isFinite(last)) throw new Error(`non-finite result ${last}`);
      x.dispose();
    },
  );

  await check(
    'tensors past MAX_TEXTURE_SIZE are refused with an error naming the limit and the remedy',
    async () => {
      const small = await gpujs.createGpuJsBackend({ name: `${name}-small`, maxTextureSize: 16 });
      let msg = '';
      try {
        small.alloc(16 * 17 * 16);
      } catch (e) {
        msg = String(e.message);
      }
      if (!/MAX_TEXTURE_SIZE 16/.test(msg) || !/smaller tensors/.test(msg))
        throw new Error(`message: ${msg}`);
      let big = '';
      try {
        be.alloc(4 * (2 ** 24 + 1));
      } catch (e) {
        big = String(e.message);
      }
      if (!/2\^24/.test(big)) throw new Error(`message: ${big}`);
      small.destroy();
    },
  );

  await check(
    'int32 tensors round-trip exactly (stored as float values), also when copied in as raw bytes',
    async () => {
      const v = Int32Array.from([0, 1, -1, 257, -16777216, 16777216, 123456, -7]);
      const t = T.tensor(v, { dtype: 'int32', backend: name });
      eq(Array.from(await t.data()), Array.from(v), 'int32 data');
      const c = T.tensor(v, { dtype: 'int32', backend: 'cpu' });
      const moved = await c.to(name);
      eq(Array.from(await moved.data()), Array.from(v), 'int32 copied from cpu');
      const plus = moved.add(1);
      // 2^24 + 1 is not a float32: the backend's int32 range is +-2^24.
      eq(
        Array.from(await plus.data()),
        Array.from(v, (x) => (x === 2 ** 24 ? x : x + 1)),
        'then add 1',
      );
      plus.dispose();
      const f = T.tensor(Float32Array.from([1.5, -2.25]), { backend: 'cpu' });
      const fm = await f.to(name);
      eq(Array.from(await fm.data()), [1.5, -2.25], 'float32 copied from cpu');
      let msg = '';
      try {
        T.tensor(Int32Array.from([2 ** 24 + 1]), { dtype: 'int32', backend: name });
      } catch (e) {
        msg = String(e.message);
      }
      if (!/2\^24/.test(msg)) throw new Error(`int beyond 2^24 accepted: ${msg}`);
      for (const x of [t, c, moved, f, fm]) x.dispose();
    },
  );

  await check('partial writes and sub-range reads', async () => {
    const buf = be.alloc(40);
    be.write(buf, Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    be.write(buf, Float32Array.from([-1, -2, -3]), 12);
    eq(
      Array.from(new Float32Array(await be.read(buf))),
      [0, 1, 2, -1, -2, -3, 6, 7, 8, 9],
      'after a write at element 3',
    );
    eq(Array.from(new Float32Array(await be.read(buf, 20, 12))), [-3, 6, 7], 'elements 5..7');
    be.free(buf);
  });

  await check('adamwStep takes the fused routine and matches the cpu backend', async () => {
    const n = 1000;
    const init = (k) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k) * 0.1);
    const run = async (backend) => {
      const [p, g, m, v] = [1, 2, 3, 4].map((k) => T.tensor(init(k), { backend }));
      const vv = T.noGrad(() => v.abs());
      let path;
      for (let step = 1; step <= 3; step++)
        path = T.adamwStep(p, g, m, vv, { lr: 1e-2, step, weightDecay: 0.1 });
      const out = [await p.data(), await m.data(), await vv.data()];
      for (const t of [p, g, m, v, vv]) t.dispose();
      return { path, out };
    };
    const gl = await run(name);
    const cpu = await run('cpu-reference');
    eq(gl.path, 'routine', 'adamwStep path');
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < n; i++) {
        const a = gl.out[k][i];
        const b = cpu.out[k][i];
        if (!(Math.abs(a - b) <= 1e-6 + 1e-5 * Math.abs(b)))
          throw new Error(`tensor ${k} element ${i}: ${a} vs cpu ${b}`);
      }
    }
  });
  await check(
    'linearCrossEntropy over more logits than one chunk (2^22) matches cpu, loss and gradients',
    async () => {
      const N = 64;
      const C = 8;
      const V = 70000;
      const xs = Float32Array.from({ length: N * C }, (_, i) => Math.sin(i * 0.37));
      const ws = Float32Array.from({ length: V * C }, (_, i) => Math.cos(i * 0.11) * 0.3);
      const ts = Int32Array.from({ length: N }, (_, i) => (i * 7919) % V);
      ts[5] = -100; // ignored
      const run = async (backend) => {
        const x = T.tensor(xs, { shape: [N, C], backend, requiresGrad: true });
        const w = T.tensor(ws, { shape: [V, C], backend, requiresGrad: true });
        const t = T.tensor(ts, { shape: [N], dtype: 'int32', backend });
        const loss = T.tidy(() => {
          const l = T.linearCrossEntropy(x, w, t).sum();
          l.backward();
          return l;
        });
        const out = {
          loss: (await loss.data())[0],
          dx: await x.grad.data(),
          dw: await w.grad.data(),
        };
        for (const u of [x, w, t, loss]) u.dispose();
        return out;
      };
      if (be.maxLoop < 2 * V) {
        // A software renderer with a loop budget (llvmpipe): refused, naming the budget.
        let msg = '';
        try {
          await run(name);
        } catch (e) {
          msg = String(e.message);
        }
        if (!/exceeds this renderer's budget/.test(msg))
          throw new Error(`expected the loop-budget error, got: ${msg}`);
        return;
      }
      const gl = await run(name);
      const cpu = await run('cpu-reference');
      if (!(Math.abs(gl.loss - cpu.loss) <= 1e-5 * Math.abs(cpu.loss)))
        throw new Error(`loss ${gl.loss} vs cpu ${cpu.loss}`);
      // dx sums V = 70000 float32 products (cpu-reference accumulates in float64): the expected
      // float32 error is ~sqrt(V) 2^-24 ~ 1.6e-5 of the terms' scale; 1e-4 of the gradient's scale.
      for (const k of ['dx', 'dw']) {
        const scale = cpu[k].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        for (let i = 0; i < cpu[k].length; i++) {
          if (!(Math.abs(gl[k][i] - cpu[k][i]) <= 1e-4 * scale))
            throw new Error(`${k}[${i}] ${gl[k][i]} vs cpu ${cpu[k][i]} (scale ${scale})`);
        }
      }
    },
  );
  return results;
}
