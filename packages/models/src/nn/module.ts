/**
 * Module: a tree of named parameters, as in PyTorch's nn.Module. Names are dotted paths
 * (`blocks.0.attn.q.weight`), in registration order, so `stateDict()` is deterministic and a
 * checkpoint is one loop over it (llm.c keeps all parameters in one list for the same reason).
 */
import { formatShape, noGrad, type Tensor, tensor } from '@lrw/tensor';

/** Values accepted by `loadStateDict`: tensors, or flat float32 data in row-major order. */
export type StateValue = Tensor | Float32Array;

export interface LoadStateDictOptions {
  /** Refuse missing and unexpected names (default true). */
  strict?: boolean;
}

/** What `loadStateDict` did not match (empty in strict mode, which throws instead). */
export interface LoadStateDictResult {
  missing: string[];
  unexpected: string[];
}

export abstract class Module {
  private readonly params = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  /** Dropout and other train-only behaviour is on when true (see `train()` / `eval()`). */
  training = true;

  /** Registers a parameter (a leaf that requires grad) under `name`; returns it. */
  protected param(name: string, value: Tensor): Tensor {
    checkName(name, this.params, this.children);
    if (!value.requiresGrad) value.requireGrad();
    this.params.set(name, value);
    return value;
  }

  /** Registers a child module under `name`; returns it. */
  protected child<M extends Module>(name: string, module: M): M {
    checkName(name, this.params, this.children);
    this.children.set(name, module);
    return module;
  }

  /** Every parameter with its dotted name, depth first in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.params) out.push([prefix + n, p]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Number of scalar parameters (each tensor counted once). */
  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  /** The live parameter tensors by name (no copy: read them, or clone before mutating). */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /**
   * Copies values into the parameters by name. Shapes must match exactly; in strict mode
   * (default) every parameter must be given and no other name may appear.
   */
  loadStateDict(
    state: ReadonlyMap<string, StateValue> | Readonly<Record<string, StateValue>>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !entries.has(k));
    const unexpected = [...entries.keys()].filter((k) => !own.has(k));
    if ((options.strict ?? true) && (missing.length > 0 || unexpected.length > 0)) {
      throw new Error(
        `loadStateDict: ${missing.length} missing (${missing.slice(0, 5).join(', ')}) and ` +
          `${unexpected.length} unexpected (${unexpected.slice(0, 5).join(', ')}) parameter names; ` +
          'check the architecture/config, or pass { strict: false } to load a subset',
      );
    }
    noGrad(() => {
      for (const [name, p] of own) {
        const v = entries.get(name);
        if (v === undefined) continue;
        if (v instanceof Float32Array) {
          if (v.length !== p.size) {
            throw new RangeError(
              `loadStateDict: '${name}' has ${v.length} values; the parameter ${formatShape(p.shape)} needs ${p.size}`,
            );
          }
          const t = tensor(v, { shape: p.shape, backend: p.backend.name });
          p.assign(t);
          t.dispose();
        } else {
          if (
            v.shape.length !== p.shape.length ||
            v.shape.some((d: number, i: number) => d !== p.shape[i])
          ) {
            throw new RangeError(
              `loadStateDict: '${name}' has shape ${formatShape(v.shape)}; the parameter is ${formatShape(p.shape)}`,
            );
          }
          p.assign(v);
        }
      }
    });
    return { missing, unexpected };
  }

  /** Sets training mode on this module and every child; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const c of this.children.values()) c.train(mode);
    return this;
  }

  /** Evaluation mode (dropout off). */
  eval(): this {
    return this.train(false);
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Releases every parameter (and its gradient). The module is unusable afterwards. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}

function checkName(name: string, params: Map<string, unknown>, children: Map<string, unknown>) {
  if (!/^[A-Za-z0-9_]+$/.test(name) || params.has(name) || children.has(name)) {
    throw new Error(`Module: name '${name}' is invalid or registered twice`);
  }
}

/** An indexed list of modules (names '0', '1', ...), like PyTorch's nn.ModuleList. */
export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];
  constructor(items: M[]) {
    super();
    for (let i = 0; i < items.length; i++) this.child(String(i), items[i]);
    this.items = items;
  }
}
