import type { Collective } from './collective.js';
import { TrainerError } from './trainer-error.js';

/**
 * An in-process stand-in for N data-parallel ranks, for tests: each rank is an async task in the
 * same process, and a collective call resolves once all N ranks have made it (the semantics of
 * MPI_Allgatherv / MPI_Allreduce / MPI_Barrier / MPI_Bcast). Sums are taken in rank order, so results are
 * deterministic and identical on every rank (accumulated in float64, rounded to float32 once).
 *
 * A rank that calls a different operation than the others, or a different length for
 * allReduceSum, gets a TrainerError instead of a hang.
 */
type OpKind = 'allGather' | 'allReduceSum' | 'barrier' | `broadcast:${number}`;

interface Round {
  kind: OpKind;
  inputs: (Float32Array | undefined)[];
  arrived: number;
  resolvers: ((value: Float32Array) => void)[];
  rejecters: ((reason: unknown) => void)[];
}

class SimulatedGroup {
  private readonly rounds = new Map<number, Round>();
  private readonly nextRound: number[];

  constructor(readonly worldSize: number) {
    this.nextRound = new Array<number>(worldSize).fill(0);
  }

  call(rank: number, kind: OpKind, input?: Float32Array): Promise<Float32Array> {
    const index = this.nextRound[rank]!++;
    let round = this.rounds.get(index);
    if (round === undefined) {
      round = { kind, inputs: [], arrived: 0, resolvers: [], rejecters: [] };
      this.rounds.set(index, round);
    }
    const promise = new Promise<Float32Array>((resolve, reject) => {
      round.resolvers[rank] = resolve;
      round.rejecters[rank] = reject;
    });
    round.inputs[rank] = input === undefined ? undefined : input.slice();
    round.arrived++;
    if (round.arrived === this.worldSize) {
      this.rounds.delete(index);
      this.complete(index, round);
    }
    return promise;
  }

  private complete(index: number, round: Round): void {
    let result: Float32Array;
    try {
      result = this.combine(index, round);
    } catch (error) {
      for (const reject of round.rejecters) reject(error);
      return;
    }
    for (const resolve of round.resolvers) resolve(result.slice());
  }

  private combine(index: number, round: Round): Float32Array {
    if (round.kind === 'barrier') return new Float32Array(0);
    const inputs = round.inputs as Float32Array[];
    if (round.kind.startsWith('broadcast:')) {
      const root = Number(round.kind.slice('broadcast:'.length));
      inputs.forEach((a, r) => {
        if (a.length !== inputs[root]!.length) {
          throw mismatch(
            index,
            `rank ${r} passed ${a.length} values to broadcast, the root ${inputs[root]!.length}`,
          );
        }
      });
      return inputs[root]!;
    }
    if (round.kind === 'allGather') {
      const out = new Float32Array(inputs.reduce((n, a) => n + a.length, 0));
      let offset = 0;
      for (const a of inputs) {
        out.set(a, offset);
        offset += a.length;
      }
      return out;
    }
    const length = inputs[0]!.length;
    const sum = new Float64Array(length);
    inputs.forEach((a, r) => {
      if (a.length !== length) {
        throw mismatch(
          index,
          `rank ${r} passed ${a.length} values to allReduceSum, rank 0 ${length}`,
        );
      }
      for (let i = 0; i < length; i++) sum[i]! += a[i]!;
    });
    return Float32Array.from(sum);
  }

  markKind(rank: number, kind: OpKind): void {
    const index = this.nextRound[rank]!;
    const round = this.rounds.get(index);
    if (round !== undefined && round.kind !== kind) {
      const error = mismatch(
        index,
        `rank ${rank} called ${kind} while others called ${round.kind}`,
      );
      this.rounds.delete(index);
      for (const reject of round.rejecters) reject?.(error);
      throw error;
    }
  }
}

function mismatch(index: number, what: string): TrainerError {
  return new TrainerError(
    'collective',
    `SimulatedCollective: collective call #${index} does not match across ranks: ${what}.`,
    'every rank must make the same sequence of collective calls with the same lengths.',
  );
}

class SimulatedRank implements Collective {
  constructor(
    private readonly group: SimulatedGroup,
    readonly rank: number,
  ) {}

  get worldSize(): number {
    return this.group.worldSize;
  }

  private run(kind: OpKind, input?: Float32Array): Promise<Float32Array> {
    try {
      this.group.markKind(this.rank, kind);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.group.call(this.rank, kind, input);
  }

  allGather(local: Float32Array): Promise<Float32Array> {
    return this.run('allGather', local);
  }

  allReduceSum(local: Float32Array): Promise<Float32Array> {
    return this.run('allReduceSum', local);
  }

  /** allReduceSum, as a started call: the same rounds and checks, so ranks may mix them. */
  startAllReduceSum(buffer: Float32Array): Promise<Float32Array> {
    return this.run('allReduceSum', buffer);
  }

  async barrier(): Promise<void> {
    await this.run('barrier');
  }

  broadcast(values: Float32Array, root: number): Promise<Float32Array> {
    return this.run(`broadcast:${root}`, values);
  }
}

/** `worldSize` connected Collectives, one per simulated rank (index = global rank). */
export function simulatedCollectives(worldSize: number): Collective[] {
  if (!Number.isInteger(worldSize) || worldSize < 1) {
    throw new TrainerError(
      'invalid-argument',
      `simulatedCollectives: worldSize = ${String(worldSize)} is invalid.`,
      'pass the number of ranks to simulate, a whole number >= 1.',
    );
  }
  const group = new SimulatedGroup(worldSize);
  return Array.from({ length: worldSize }, (_, rank) => new SimulatedRank(group, rank));
}

/**
 * Runs `task` once per simulated rank concurrently and returns the results in rank order, e.g.
 * `await runSimulatedRanks(2, async (c) => trainStep(c))`.
 */
export async function runSimulatedRanks<T>(
  worldSize: number,
  task: (collective: Collective) => Promise<T>,
): Promise<T[]> {
  return Promise.all(simulatedCollectives(worldSize).map((c) => task(c)));
}
