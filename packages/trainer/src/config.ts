import { readFile } from 'node:fs/promises';
import { STRATEGIES, STRATEGY_NAMES, type StrategyName } from '@lrw/strategies';
import { z } from 'zod';
import { STATIC_DOMAIN_MIXTURES } from './domain-mixtures.js';
import { TrainerError } from './trainer-error.js';

/**
 * The trainer's config: one typed object with defaults, loadable from JSON, validated by a zod
 * schema. Errors list every bad field with its path, the value found, what is allowed and how
 * to fix it. Defaults follow the paper's GPT-2 recipe (spec section 7) where it states one.
 */
/** The weighting methods: exactly @lrw/strategies' built-in strategies (one list, not two). */
export const METHODS = STRATEGY_NAMES as readonly [StrategyName, ...StrategyName[]];
export type Method = StrategyName;

/**
 * The @lrw/tensor backends a run can train on (config field `backend`, CLI `--backend`):
 *
 * - `cpu` (default): the fast CPU backend (wasm SIMD / BLAS matmul, fused routines, one-pass
 *   AdamW);
 * - `cpu-reference`: the reference kernels (float64 accumulation; slow, for checks);
 * - `webgpu`: WGSL kernels on a WebGPU adapter (a GPU; without one, software adapters such as
 *   Mesa's llvmpipe run it, for tests, at about a hundred tokens per second);
 * - `cuda`: CUDA C kernels and cuBLAS on an NVIDIA GPU (needs the NVIDIA driver, cuBLAS and
 *   the optional npm package `koffi`).
 */
export const TRAINER_BACKENDS = ['cpu', 'cpu-reference', 'webgpu', 'gpujs', 'cuda'] as const;
export type TrainerBackend = (typeof TRAINER_BACKENDS)[number];

const steps = (what: string) =>
  z
    .number({ error: `must be a whole number of ${what}` })
    .int({ error: `must be a whole number of ${what}` });
const positiveInt = (what: string) =>
  steps(what).min(1, { error: `must be at least 1 ${what.replace(/s$/, '')}` });
const nonNegativeInt = (what: string) => steps(what).min(0, { error: `must be >= 0 ${what}` });
const rate = z
  .number({ error: 'must be a number' })
  .refine((v) => Number.isFinite(v) && v > 0, { error: 'must be a finite number > 0' });
const fraction = (what: string) =>
  z
    .number({ error: `must be a number in [0, 1) (${what})` })
    .min(0)
    .lt(1, { error: `must be < 1 (${what})` });

const lrSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('constant'),
      lr: rate,
      warmupSteps: nonNegativeInt('steps').default(0),
    }),
    z.strictObject({
      kind: z.enum(['cosine', 'linear']),
      peakLr: rate,
      endLr: z.number({ error: 'must be a number >= 0' }).min(0, { error: 'must be >= 0' }),
      warmupSteps: nonNegativeInt('steps'),
      /** Length of the decay; default: the run's `steps`. */
      totalSteps: nonNegativeInt('steps').optional(),
    }),
  ],
  { error: 'kind must be one of "cosine", "linear", "constant"' },
);

const temperatureLeaves = [
  z.strictObject({ kind: z.literal('constant'), r: rate }),
  z.strictObject({
    kind: z.literal('step'),
    r0: rate,
    r: rate,
    warmupSteps: nonNegativeInt('steps'),
  }),
  z.strictObject({
    kind: z.enum(['linear', 'cosine', 'exponential']),
    r0: rate,
    r: rate,
    startStep: nonNegativeInt('steps').default(0),
    spanSteps: positiveInt('steps'),
  }),
] as const;
const LEAF_KINDS = '"constant", "step", "linear", "cosine", "exponential"';

/**
 * The temperature schedule, in the JSON form of @lrw/strategies' TemperatureScheduleConfig
 * (spec section 6). `plain-mean-warmup` trains on the plain mean loss first (the GPT-2
 * reference's 1000 steps), then follows `then`.
 */
const temperatureSchema = z.discriminatedUnion(
  'kind',
  [
    ...temperatureLeaves,
    z.strictObject({
      kind: z.literal('plain-mean-warmup'),
      warmupSteps: nonNegativeInt('steps'),
      // biome-ignore lint/suspicious/noThenProperty: @lrw/strategies' TemperatureScheduleConfig names it; an object, never a function
      then: z.discriminatedUnion('kind', [...temperatureLeaves], {
        error: `kind must be one of ${LEAF_KINDS}`,
      }),
    }),
  ],
  { error: `kind must be one of ${LEAF_KINDS}, "plain-mean-warmup"` },
);

const domainWeightsSchema = z.union(
  [
    z.enum(['uniform', 'doge', 'doremi']),
    z
      .record(
        z.string(),
        z
          .number()
          .min(0, { error: 'must be >= 0' })
          .refine(Number.isFinite, { error: 'must be finite' }),
      )
      .refine((w) => Object.values(w).some((v) => v > 0), {
        error: 'needs at least one weight > 0',
      }),
  ],
  { error: 'must be "uniform", "doge", "doremi" or an object { "<domain>": weight }' },
);

/**
 * Online domain reweighting: the mixture the training stream samples from changes every step
 * (see domain-updates.ts for the algorithms and the source of each default).
 */
const domainReweightingSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('doremi'),
      /** The reference run's directory (a finished run on the same data, its latest checkpoint). */
      reference: z.string({ error: 'must be the directory of the reference run' }).min(1, {
        error: 'must not be empty',
      }),
      /** eta, DoReMi's step size (Xie et al. 2023: 1). */
      stepSize: rate.default(1),
      /** c, the weight of the uniform mixture in the smoothing (Xie et al. 2023: 1e-3). */
      smoothing: z
        .number({ error: 'must be a number in [0, 1]' })
        .min(0, { error: 'must be >= 0' })
        .max(1, { error: 'must be <= 1' })
        .default(1e-3),
      /** Samples of each domain drawn per step to measure the excess losses. */
      probeSamples: positiveInt('samples').default(2),
    }),
    z.strictObject({
      kind: z.literal('doge'),
      /** mu: the step size is the learning rate / mu (lrw's default 1; see domain-updates.ts). */
      mu: rate.default(1),
      /** Samples of each domain drawn per step to measure the domain gradients. */
      probeSamples: positiveInt('samples').default(2),
    }),
  ],
  { error: 'kind must be "doremi" or "doge"' },
);

export const trainerConfigSchema = z
  .strictObject({
    /** Model preset name from @lrw/models (e.g. the nano, micro and tiny CPU configs). */
    model: z
      .string({ error: 'must be a model preset name' })
      .min(1, { error: 'must not be empty' })
      .default('nano'),
    seqLen: positiveInt('tokens').default(128),
    /** Samples per micro-batch on each rank. */
    batchSize: positiveInt('samples').default(8),
    /** Micro-batches per optimizer step. */
    gradAccumulation: positiveInt('micro-batches').default(1),
    /**
     * With several data-parallel ranks: how the gradients are summed. `bucketMB` (default 25,
     * PyTorch DDP's): the gradients go in flat buckets of at most this many MiB, in reverse
     * parameter order, each summed as soon as backward has finished its parameters, while
     * backward goes on; `overlap: false` sums one flat vector after backward instead. Where the
     * collective or the backend cannot overlap, the flat sum is used and the run says why. The
     * result is the same either way; it may change on resume. Left out: the defaults.
     */
    allReduce: z
      .strictObject({
        bucketMB: z
          .number({ error: 'must be a number of MiB > 0' })
          .refine((v) => Number.isFinite(v) && v > 0, { error: 'must be a number of MiB > 0' })
          .default(25),
        overlap: z.boolean({ error: 'must be true or false' }).default(true),
      })
      .optional(),
    /**
     * `per-micro-batch`: each micro-batch is normalized and weighted on its own, then divided by
     * the accumulation steps (the reference code). `global`: weights over all micro-batches of
     * the step at once (spec section 5).
     */
    accumulationNormalization: z
      .enum(['per-micro-batch', 'global'], { error: 'must be "per-micro-batch" or "global"' })
      .default('per-micro-batch'),
    /** Optimizer steps of the run. */
    steps: positiveInt('steps').default(20_000),
    /** Default: the paper's cosine (5e-4 to 1e-4) with a warm-up of 2.5% of `steps` (500 of 20,000). */
    lr: lrSchema.optional(),
    optimizer: z
      .strictObject({
        weightDecay: z
          .number({ error: 'must be a number >= 0' })
          .min(0, { error: 'must be >= 0' })
          .default(0.01),
        beta1: fraction('AdamW beta1').default(0.9),
        beta2: fraction('AdamW beta2').default(0.95),
        eps: rate.default(1e-8),
        /** Leave biases, norm gains and embeddings out of weight decay (nanoGPT's grouping). */
        decayOnlyMatrices: z.boolean({ error: 'must be true or false' }).default(true),
      })
      .prefault({}),
    /** Gradient-norm clip; null turns clipping off. */
    gradClip: z
      .number({ error: 'must be a number > 0, or null for no clipping' })
      .refine((v) => Number.isFinite(v) && v > 0, {
        error: 'must be a finite number > 0, or null for no clipping',
      })
      .nullable()
      .default(1.0),
    method: z
      .enum(METHODS, { error: `must be one of ${METHODS.map((m) => `"${m}"`).join(', ')}` })
      .default('uniform'),
    /** Temperature r schedule; default: the paper's value for the method after a 1000-step plain-mean warm-up. */
    temperature: temperatureSchema.optional(),
    domainWeights: domainWeightsSchema.default('uniform'),
    /**
     * Online DoReMi or DoGE: the domain weights start at `domainWeights` and are updated every
     * step; the run writes their average and trajectory to domain-weights.json.
     */
    domainReweighting: domainReweightingSchema.optional(),
    /** Evaluate every N steps (and at the end); 0: only at the end. */
    evalInterval: nonNegativeInt('steps').default(500),
    /**
     * Validation batches per evaluation, split evenly among the domains (at least 1 each);
     * left out: the whole validation split. Kept in the run's config.json, so a resume
     * evaluates as the run did.
     */
    evalBatches: positiveInt('batches').optional(),
    /** Checkpoint every N steps (and at the end); 0: only at the end. */
    checkpointInterval: nonNegativeInt('steps').default(1000),
    keepCheckpoints: positiveInt('checkpoints').default(3),
    guard: z
      .strictObject({
        maxConsecutiveBad: positiveInt('steps').default(5),
        lossZThreshold: rate.optional(),
        gradNormZThreshold: rate.optional(),
      })
      .prefault({}),
    seed: z
      .number({ error: 'must be a whole number >= 0' })
      .int({ error: 'must be a whole number >= 0' })
      .min(0, { error: 'must be a whole number >= 0' })
      .default(0),
    outputDir: z
      .string({ error: 'must be a directory path' })
      .min(1, { error: 'must not be empty' })
      .default('runs/run'),
    /**
     * The @lrw/tensor backend to train on (TRAINER_BACKENDS). Checkpoints hold host arrays
     * whatever the backend, so a run resumes on any backend.
     */
    backend: z
      .enum(TRAINER_BACKENDS, {
        error: `must be one of ${TRAINER_BACKENDS.map((b) => `"${b}"`).join(', ')}`,
      })
      .default('cpu'),
  })
  .superRefine((c, ctx) => {
    if (c.lr !== undefined && c.lr.kind !== 'constant') {
      const total = c.lr.totalSteps ?? c.steps;
      if (c.lr.endLr > c.lr.peakLr) {
        ctx.addIssue({
          code: 'custom',
          path: ['lr', 'endLr'],
          input: c.lr.endLr,
          message: `must be <= lr.peakLr (${c.lr.peakLr})`,
        });
      }
      if (c.lr.warmupSteps > total) {
        ctx.addIssue({
          code: 'custom',
          path: ['lr', 'warmupSteps'],
          input: c.lr.warmupSteps,
          message: `must be <= the decay length ${total} (lr.totalSteps, or steps when it is left out)`,
        });
      }
    }
    if (c.method === 'uniform' && c.temperature !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['temperature'],
        input: c.temperature,
        message: 'has no effect with method "uniform": remove it or choose a reweighting method',
      });
    }
  });

type ParsedConfig = z.output<typeof trainerConfigSchema>;
export type TemperatureConfig = z.output<typeof temperatureSchema>;

/** The validated config with every default filled in. */
type LrConfig = NonNullable<ParsedConfig['lr']>;
export type TrainerConfig = Omit<ParsedConfig, 'lr' | 'temperature'> & {
  lr:
    | Exclude<LrConfig, { kind: 'cosine' | 'linear' }>
    | (Extract<LrConfig, { kind: 'cosine' | 'linear' }> & { totalSteps: number });
  /** Resolved: the method's default when not given; undefined for uniform. */
  temperature: TemperatureConfig | undefined;
};
/** What a user writes: every field optional. */
export type TrainerConfigInput = z.input<typeof trainerConfigSchema>;

/**
 * The paper's schedules are stated for 20,000 steps: 500 LR warm-up steps and 1000 plain-mean
 * steps before reweighting starts (spec section 7). Runs of another length keep those
 * proportions (2.5% and 5% of the steps) unless the config sets them, in a config file and on
 * the command line alike.
 */
export const LR_WARMUP_SHARE = 500 / 20_000;
export const REWEIGHT_WARMUP_SHARE = 1000 / 20_000;

/** The default learning-rate schedule of a run of `steps` steps (the paper's at 20,000). */
export function defaultLr(steps = 20_000): TrainerConfig['lr'] {
  return {
    kind: 'cosine',
    peakLr: 5e-4,
    endLr: 1e-4,
    warmupSteps: Math.round(steps * LR_WARMUP_SHARE),
    totalSteps: steps,
  };
}

/**
 * The method's r when the config gives none: its @lrw/strategies descriptor's `defaultR` (the
 * paper's, spec section 7: 0.4 for LinUpper and Extremes, 1.0 for Quadratic, 1 where none is
 * published) after a plain-mean warm-up of 5% of the steps (the GPT-2 reference's 1000 of
 * 20,000); undefined for uniform, whose weights do not depend on r.
 */
export function defaultTemperature(method: Method, steps = 20_000): TemperatureConfig | undefined {
  const r = STRATEGIES[method].defaultR;
  if (r === Infinity) return undefined;
  return {
    kind: 'plain-mean-warmup',
    warmupSteps: Math.round(steps * REWEIGHT_WARMUP_SHARE),
    // biome-ignore lint/suspicious/noThenProperty: @lrw/strategies' TemperatureScheduleConfig names it; an object, never a function
    then: { kind: 'constant', r },
  };
}

/** The methods for a CLI help line, each with its default r: "uniform, linupper (r 0.4), ...". */
export function methodsHelp(): string {
  return METHODS.map((m) => {
    const r = STRATEGIES[m].defaultR;
    return r === Infinity ? m : `${m} (r ${r})`;
  }).join(', ');
}

const FIXES: [RegExp, string][] = [
  [
    /^lr(\.|$)/,
    'e.g. "lr": { "kind": "cosine", "peakLr": 5e-4, "endLr": 1e-4, "warmupSteps": 500 }',
  ],
  [
    /^temperature(\.|$)/,
    'e.g. "temperature": { "kind": "plain-mean-warmup", "warmupSteps": 1000, "then": { "kind": "constant", "r": 0.4 } }',
  ],
  [
    /^domainWeights/,
    `e.g. "domainWeights": "doge", or { "${Object.keys(STATIC_DOMAIN_MIXTURES.doge).join('": 1, "')}": 1 }`,
  ],
];

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function formatIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(shapeAt(issue.path));
    return issue.keys
      .map((key) => {
        const where = path ? `${path}.${key}` : key;
        const close = known.find(
          (k) => k.toLowerCase() === key.toLowerCase() || editDistance(k, key) <= 2,
        );
        return `${where}: unknown field${close ? `; did you mean "${close}"?` : `; known fields: ${known.join(', ')}`}`;
      })
      .join('\n  - ');
  }
  // the value as the user wrote it; zod's own `input` for fields it had to fill in
  const written = valueAt(input, issue.path);
  const value = written === undefined && 'input' in issue ? issue.input : written;
  const fix = FIXES.find(([re]) => re.test(path))?.[1];
  return `${path || '(config)'} = ${describeValue(value)}: ${issue.message}${fix ? ` (${fix})` : ''}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path)
    v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** Field names of the object at `path` (the top level or a nested object such as optimizer). */
function shapeAt(path: readonly PropertyKey[]): Record<string, unknown> {
  const shape = trainerConfigSchema.shape as Record<string, unknown>;
  if (path.length === 0) return shape;
  const inner = shape[String(path[0])] as
    | { def?: { innerType?: { shape?: Record<string, unknown> } } }
    | undefined;
  return inner?.def?.innerType?.shape ?? {};
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...new Array<number>(b.length).fill(0),
  ]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Validates `input` and fills in defaults. Throws a TrainerError listing every bad field;
 * `source` (a file name) is named in the message.
 */
export function parseTrainerConfig(input: unknown, source = 'config'): TrainerConfig {
  const result = trainerConfigSchema.safeParse(input ?? {}, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  - ${formatIssue(issue, input)}`);
    throw new TrainerError(
      'invalid-config',
      `${source}: ${lines.length} invalid field${lines.length > 1 ? 's' : ''}:\n${lines.join('\n')}`,
      'fix the fields listed (defaults apply to fields left out); the @lrw/trainer README\'s "Config" section lists every field.',
    );
  }
  const c = result.data;
  return {
    ...c,
    lr:
      c.lr === undefined
        ? defaultLr(c.steps)
        : c.lr.kind === 'constant'
          ? c.lr
          : { ...c.lr, totalSteps: c.lr.totalSteps ?? c.steps },
    temperature:
      c.method === 'uniform' ? undefined : (c.temperature ?? defaultTemperature(c.method, c.steps)),
  };
}

/** Every field at its default. */
export function defaultTrainerConfig(): TrainerConfig {
  return parseTrainerConfig({}, 'defaults');
}

/** Reads a JSON config file; errors name the file (and line for JSON syntax errors). */
export async function loadTrainerConfig(path: string): Promise<TrainerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TrainerError(
      'config-file',
      `Config file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      'check the path; a config file is a JSON object with the fields of TrainerConfig.',
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec(String(error));
    const where = at ? ` at line ${text.slice(0, Number(at[1])).split('\n').length}` : '';
    throw new TrainerError(
      'config-file',
      `Config file ${path} is not valid JSON${where}: ${(error as Error).message}.`,
      'JSON needs double-quoted keys and no trailing commas or comments.',
      { cause: error },
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TrainerError(
      'config-file',
      `Config file ${path} holds ${describeValue(json)}, not a JSON object.`,
      'write the config as { "field": value, ... }.',
    );
  }
  return parseTrainerConfig(json, path);
}
