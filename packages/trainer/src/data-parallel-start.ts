import type { CausalLM } from '@lrw/models';
import type { Collective } from './collective.js';
import type { TrainerConfig } from './config.js';
import { crc32 } from './crc32.js';
import { TrainerError } from './trainer-error.js';

/** 16-bit halves, so that a 32-bit value travels exactly in float32. */
const halves = (x: number) => [Math.floor(x / 65536) % 65536, x % 65536];

/**
 * Before the first step of a data-parallel run (several ranks): every rank checks that all
 * ranks start from the same step with the same config, then takes rank 0's parameters. The
 * check is an allGather, so every rank sees every rank's values and all of them throw the same
 * error naming the rank that differs (e.g. a checkpoint folder that one machine does not see).
 * The broadcast makes the start independent of how each rank built its model.
 */
export async function agreeOnStart(
  collective: Collective,
  model: CausalLM,
  config: TrainerConfig,
  step: number,
): Promise<void> {
  const W = collective.worldSize;
  if (W === 1) return;
  // the output directory is where each machine mounts the run: it may differ
  const { outputDir: _dir, ...shared } = config;
  const configCrc = crc32(new TextEncoder().encode(JSON.stringify(shared)));
  const all = await collective.allGather(
    Float32Array.from([...halves(step), ...halves(configCrc)]),
  );
  const at = (r: number) => ({
    step: all[4 * r]! * 65536 + all[4 * r + 1]!,
    crc: all[4 * r + 2]! * 65536 + all[4 * r + 3]!,
  });
  const root = at(0);
  for (let r = 1; r < W; r++) {
    const other = at(r);
    if (other.step !== root.step) {
      throw new TrainerError(
        'collective',
        `Rank ${r} would start at step ${other.step}, rank 0 at step ${root.step}: the ranks see different checkpoints.`,
        'every rank reads the checkpoints: put the run directory on a file system that every machine sees at the same path.',
      );
    }
    if (other.crc !== root.crc) {
      throw new TrainerError(
        'collective',
        `Rank ${r} has another training config than rank 0 (a different config file or flags).`,
        'start every rank with the same command line and config file (mpirun and srun do this).',
      );
    }
  }
  const params = model.namedParameters();
  const total = params.reduce((n, [, p]) => n + p.size, 0);
  const flat = new Float32Array(total);
  if (collective.rank === 0) {
    let at0 = 0;
    for (const [, p] of params) {
      flat.set((await p.data()) as Float32Array, at0);
      at0 += p.size;
    }
  }
  const start = await collective.broadcast(flat, 0);
  if (collective.rank === 0) return;
  const values: Record<string, Float32Array> = {};
  let offset = 0;
  for (const [name, p] of params) {
    values[name] = start.slice(offset, offset + p.size);
    offset += p.size;
  }
  model.loadStateDict(values);
}
