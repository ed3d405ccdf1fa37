/**
 * The registration mechanism every backend shares: a table of kernels by name (what `run`
 * dispatches to, replaceable one kernel at a time) and a table of fused routines by op name
 * (what `routineOf` finds). A backend extends `KernelBackend<Self>` and implements storage
 * (`alloc`, `free`, `write`, `read`, `sync`, `memory`) plus `acceptsDType`; `run`, `supports`,
 * `registerKernel` and `registerRoutine` come from here.
 *
 *   class MyBackend extends KernelBackend<MyBackend> { ... }
 *   const be = new MyBackend();
 *   be.registerKernel('sum', (call, self) => reduce(call.attrs.inner, ...)); // attrs typed by name
 *   be.registerRoutine('softmax', mySoftmax);                                // Routine<SoftmaxAttrs>
 */
import type { Backend, BackendMemory, Buf, KernelCall, KernelFn, KernelName } from './backend.js';
import type { DType } from './dtype.js';
import { UnsupportedOpError } from './errors.js';
import type { Routine, RoutineHost, RoutineName, RoutineOf, RoutineTable } from './routine.js';

/** Kernels of backend `B` by name. */
export type KernelTable<B> = Readonly<Record<string, KernelFn<B> | undefined>>;

export abstract class KernelBackend<Self extends KernelBackend<Self>>
  implements Backend, RoutineHost
{
  abstract readonly name: string;
  private readonly kernels = new Map<string, KernelFn<Self>>();
  private readonly routines = new Map<string, Routine>();

  /** Whether this backend computes kernel `kernel` on operands of `dtype`. */
  protected abstract acceptsDType(kernel: KernelName, dtype: DType): boolean;
  /** The hint of the UnsupportedOpError for a missing kernel or an unsupported dtype. */
  protected abstract unsupportedHint(missing: boolean): string;

  abstract alloc(bytes: number): Buf;
  abstract free(buf: Buf): void;
  abstract write(buf: Buf, src: ArrayBufferView, byteOffset?: number): void;
  abstract read(buf: Buf, byteOffset?: number, byteLength?: number): Promise<ArrayBuffer>;
  abstract sync(): Promise<void>;
  abstract memory(): BackendMemory;

  /** Replaces (or adds) the implementation of one kernel. */
  registerKernel<K extends KernelName>(name: K, kernel: KernelFn<Self, K>): void {
    this.kernels.set(name, kernel as KernelFn<Self>);
  }

  /** Registers every kernel of `table` (later tables replace earlier ones). */
  registerKernels(table: KernelTable<Self>): void {
    for (const [name, kernel] of Object.entries(table)) if (kernel) this.kernels.set(name, kernel);
  }

  /** The implementation currently registered for `name`. */
  kernel<K extends KernelName>(name: K): KernelFn<Self, K> | undefined {
    return this.kernels.get(name);
  }

  /** Adds (or with `undefined`, removes) the fused routine of op `op`. */
  registerRoutine<N extends RoutineName>(op: N, routine: RoutineOf<N> | undefined): void {
    if (routine) this.routines.set(op, routine as Routine);
    else this.routines.delete(op);
  }

  /** Registers every routine of `table`. */
  registerRoutines(table: RoutineTable): void {
    for (const [op, routine] of Object.entries(table)) this.registerRoutine(op, routine);
  }

  /** The fused routine registered for `op`. */
  routine<N extends RoutineName>(op: N): RoutineOf<N> | undefined {
    return this.routines.get(op) as RoutineOf<N> | undefined;
  }

  supports(kernel: KernelName, dtype: DType): boolean {
    return this.kernels.has(kernel) && this.acceptsDType(kernel, dtype);
  }

  run<K extends KernelName>(call: KernelCall<K>): void {
    const k = this.kernels.get(call.kernel);
    let bad = this.acceptsDType(call.kernel, call.output.dtype) ? undefined : call.output;
    for (let i = 0; i < call.inputs.length && !bad; i++) {
      const v = call.inputs[i]!;
      if (!this.acceptsDType(call.kernel, v.dtype)) bad = v;
    }
    if (!k || bad) {
      throw new UnsupportedOpError(
        call.kernel,
        bad?.dtype ?? call.output.dtype,
        this.name,
        this.unsupportedHint(!k),
      );
    }
    // `this` is the concrete backend its kernels were registered for (Self).
    k(call as KernelCall, this as unknown as Self);
  }
}
