/**
 * The shared conformance suite: every op-table entry, forward against the float64 reference and
 * gradients against central finite differences of that reference in float64, on any registered
 * backend. Each check also asserts that it leaks no tensors or buffers.
 *
 *   for (const c of conformanceChecks('webgpu', { skip: { pow: 'WGSL pow of negatives is NaN' } }))
 *     it(c.name, c.run);
 */
import { assertNoLeaks, tidy } from '../engine.js';
import { type Tensor, tensor } from '../index.js';
import { opTable, type Tolerance, toleranceFor } from '../op-table.js';
import { philoxFill } from '../philox.js';
import { loadBackend } from '../registry.js';
import { formatShape } from '../shape.js';
import { type InputSpec, OP_CASES, type OpCase } from './op-cases.js';
import { type Arr64, arr } from './reference64.js';

export interface ConformanceOptions {
  /** Ops (or case labels) to skip, each with the reason (reported, never silent). */
  skip?: Record<string, string>;
  /** Run only these ops. */
  only?: readonly string[];
  /** Extra cases (e.g. for backend-specific ops). */
  extraCases?: readonly OpCase[];
  /** Gradient tolerance (default rtol 1e-3, atol 1e-4 times the gradient's scale). */
  gradTolerance?: Tolerance;
}

export interface ConformanceCheck {
  name: string;
  op: string;
  kind: 'forward' | 'gradient' | 'coverage';
  /** Set when the check is skipped. */
  skipReason?: string;
  /** Resolves when the check passes; rejects with a message naming the first mismatch. */
  run(): Promise<void>;
}

function hashLabel(label: string): number {
  let h = 2166136261;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Input values for a case (float32-representable, so both sides see the same numbers). */
export function caseInputs(c: OpCase): Arr64[] {
  return c.inputs.map((spec, i) => {
    const a = arr(spec.shape);
    const n = a.data.length;
    if (spec.values) {
      if (spec.values.length !== n)
        throw new Error(
          `case '${c.label}': input ${i} has ${spec.values.length} values for ${formatShape(spec.shape)}`,
        );
      a.data.set(spec.values);
      return a;
    }
    const u = new Float64Array(n);
    philoxFill(u, n, {
      seed: hashLabel(c.label),
      offset: i * 1000,
      dist: spec.kind === 'normal' || !spec.kind ? 'normal' : 'uniform',
      a: 0,
      b: 1,
    });
    for (let j = 0; j < n; j++) {
      const v = u[j];
      a.data[j] =
        spec.kind === 'positive'
          ? 0.5 + 1.5 * v
          : spec.kind === 'index'
            ? Math.floor(v * (spec.high ?? 2))
            : spec.kind === 'mask'
              ? v < 0.5
                ? 0
                : 1
              : v;
    }
    a.data.set(Float32Array.from(a.data));
    return a;
  });
}

function toTensor(a: Arr64, spec: InputSpec, backend: string, requiresGrad: boolean): Tensor {
  const dtype = spec.dtype ?? 'float32';
  return tensor(dtype === 'int32' ? Int32Array.from(a.data) : Float32Array.from(a.data), {
    shape: a.shape,
    dtype,
    backend,
    requiresGrad,
  });
}

function compare(
  what: string,
  got: ArrayLike<number>,
  want: Arr64,
  gotShape: readonly number[],
  tol: Tolerance,
): void {
  if (formatShape(gotShape) !== formatShape(want.shape)) {
    throw new Error(
      `${what}: shape ${formatShape(gotShape)}, reference ${formatShape(want.shape)}`,
    );
  }
  for (let i = 0; i < want.data.length; i++) {
    const g = got[i];
    const w = want.data[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (w === g) continue;
    const err = Math.abs(g - w);
    if (!(err <= tol.atol + tol.rtol * Math.abs(w))) {
      throw new Error(
        `${what}: element ${i} is ${g}, reference ${w} (|diff| ${err.toExponential(2)} > atol ${tol.atol} + rtol ${tol.rtol})`,
      );
    }
  }
}

function gradInputs(c: OpCase): number[] {
  return c.inputs
    .map((s, i) => ((s.grad ?? (s.dtype ?? 'float32') === 'float32') ? i : -1))
    .filter((i) => i >= 0);
}

/** Central finite differences in float64 of sum(ref(xs) * r) with respect to xs[i]. */
export function finiteDifferenceGradient(
  ref: (xs: Arr64[]) => Arr64,
  xs: Arr64[],
  r: Arr64,
  i: number,
  h = 1e-6,
): Arr64 {
  const g = arr(xs[i].shape);
  const dot = (o: Arr64) => o.data.reduce((s, v, k) => s + v * r.data[k], 0);
  for (let e = 0; e < g.data.length; e++) {
    const x0 = xs[i].data[e];
    const step = h * Math.max(1, Math.abs(x0));
    xs[i].data[e] = x0 + step;
    const fp = dot(ref(xs));
    xs[i].data[e] = x0 - step;
    const fm = dot(ref(xs));
    xs[i].data[e] = x0;
    g.data[e] = (fp - fm) / (2 * step);
  }
  return g;
}

async function forwardCheck(c: OpCase, backend: string): Promise<void> {
  const xs = caseInputs(c);
  const want = c.ref(xs.map((x) => ({ shape: x.shape, data: x.data.slice() })));
  const tol = c.tolerance ?? toleranceFor(c.op, 'float32');
  await assertNoLeaks(async () => {
    const ts = xs.map((x, i) => toTensor(x, c.inputs[i], backend, false));
    try {
      const out = tidy(() => c.run(ts, backend));
      try {
        compare(`${c.label} forward`, await out.data(), want, out.shape, tol);
      } finally {
        out.dispose();
      }
    } finally {
      for (const t of ts) t.dispose();
    }
  });
}

async function gradientCheck(
  c: OpCase,
  backend: string,
  tol: Tolerance,
  only?: number,
): Promise<void> {
  const xs = caseInputs(c);
  // `only`: one input requires grad and the others do not, so rules that skip (and do not save)
  // what an unwanted gradient needs are exercised too.
  const which = only === undefined ? gradInputs(c) : [only];
  const out0 = c.ref(xs);
  const r = arr(out0.shape);
  philoxFill(r.data, r.data.length, {
    seed: hashLabel(c.label) + 1,
    offset: 0,
    dist: 'normal',
    a: 0,
    b: 1,
  });
  r.data.set(Float32Array.from(r.data));
  await assertNoLeaks(async () => {
    const ts = xs.map((x, i) => toTensor(x, c.inputs[i], backend, which.includes(i)));
    try {
      tidy(() => {
        const out = c.run(ts, backend);
        out.backward(tensor(Float32Array.from(r.data), { shape: r.shape, backend }));
      });
      for (const i of which) {
        const want = finiteDifferenceGradient(c.ref, xs, r, i);
        const grad = ts[i].grad;
        if (!grad) throw new Error(`${c.label}: input ${i} received no gradient`);
        const scale = Math.max(1, ...Array.from(want.data, Math.abs));
        compare(`${c.label} gradient of input ${i}`, await grad.data(), want, grad.shape, {
          rtol: tol.rtol,
          atol: tol.atol * scale,
        });
      }
    } finally {
      for (const t of ts) t.dispose();
    }
  });
}

/** One check per case and kind, plus a coverage check over the op table. */
export function conformanceChecks(
  backend: string,
  options: ConformanceOptions = {},
): ConformanceCheck[] {
  const cases = [...OP_CASES, ...(options.extraCases ?? [])];
  const gradTol = options.gradTolerance ?? { rtol: 1e-3, atol: 1e-4 };
  const selected = cases.filter((c) => !options.only || options.only.includes(c.op));
  const checks: ConformanceCheck[] = [];
  if (!options.only) {
    checks.push({
      name: `${backend}: every op-table entry has a conformance case`,
      op: '*',
      kind: 'coverage',
      run: async () => {
        const covered = new Set(cases.map((c) => c.op));
        const missing = [...opTable.keys()].filter((op) => !covered.has(op));
        if (missing.length)
          throw new Error(
            `ops without conformance cases: ${missing.join(', ')}; add them to OP_CASES`,
          );
      },
    });
  }
  for (const c of selected) {
    const skipReason = options.skip?.[c.op] ?? options.skip?.[c.label];
    const withBackend = async (fn: () => Promise<void>) => {
      await loadBackend(backend);
      await fn();
    };
    checks.push({
      name: `${backend}: ${c.op}: ${c.label}: forward`,
      op: c.op,
      kind: 'forward',
      skipReason,
      run: () => withBackend(() => forwardCheck(c, backend)),
    });
    const differentiable =
      c.grad !== false && (opTable.get(c.op)?.differentiable ?? true) && gradInputs(c).length > 0;
    if (differentiable) {
      checks.push({
        name: `${backend}: ${c.op}: ${c.label}: gradient (finite differences, float64)`,
        op: c.op,
        kind: 'gradient',
        skipReason,
        run: () => withBackend(() => gradientCheck(c, backend, gradTol)),
      });
      const many = gradInputs(c);
      if (many.length > 1) {
        for (const i of many) {
          checks.push({
            name: `${backend}: ${c.op}: ${c.label}: gradient of input ${i} alone`,
            op: c.op,
            kind: 'gradient',
            skipReason,
            run: () => withBackend(() => gradientCheck(c, backend, gradTol, i)),
          });
        }
      }
    }
  }
  return checks;
}

export interface ConformanceReport {
  backend: string;
  passed: string[];
  failed: { name: string; message: string }[];
  skipped: { name: string; reason: string }[];
}

/** Runs every check on `backend` and reports (never throws for a failing op). */
export async function runConformanceSuite(
  backend: string,
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const report: ConformanceReport = { backend, passed: [], failed: [], skipped: [] };
  for (const c of conformanceChecks(backend, options)) {
    if (c.skipReason) {
      report.skipped.push({ name: c.name, reason: c.skipReason });
      continue;
    }
    try {
      await c.run();
      report.passed.push(c.name);
    } catch (e) {
      report.failed.push({ name: c.name, message: e instanceof Error ? e.message : String(e) });
    }
  }
  return report;
}
