import { existsSync, readFileSync } from 'node:fs';
import { TrainerError } from './trainer-error.js';

/**
 * The domain weights of a JSON file: a `domain-weights.json` written by `lrw doremi`, `lrw doge`
 * or a run with online domain reweighting (its `weights`, the mean over the steps), or a plain
 * object `{ "<domain>": weight }`. Every weight must be a finite number >= 0 and one at least
 * > 0; they need not sum to 1 (the mixture is normalised). Errors name the file and the field.
 */
export function readDomainWeightsFile(path: string): Record<string, number> {
  const hint =
    'pass the domain-weights.json of `lrw doremi` / `lrw doge` (or of a run trained with --domain-reweighting), or a JSON object { "<domain>": weight, ... } with weights >= 0.';
  if (!existsSync(path)) {
    throw new TrainerError(
      'config-file',
      `Domain weights file ${path} does not exist.`,
      `check the path; ${hint} The names uniform, doge and doremi (the paper's SlimPajama mixtures) need no file.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TrainerError(
      'config-file',
      `Domain weights file ${path} is not valid JSON: ${(error as Error).message}.`,
      hint,
    );
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(json)) {
    throw new TrainerError(
      'config-file',
      `Domain weights file ${path} holds no JSON object.`,
      hint,
    );
  }
  const fromRun = json.kind === 'lrw-domain-weights';
  const weights = fromRun ? json.weights : json;
  const field = (k: string) => (fromRun ? `weights.${k}` : k);
  if (!isObject(weights)) {
    throw new TrainerError(
      'config-file',
      `Domain weights file ${path}: "weights" must be an object { "<domain>": weight }.`,
      hint,
    );
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(weights)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new TrainerError(
        'config-file',
        `Domain weights file ${path}: ${field(k)} = ${JSON.stringify(v)}; every weight must be a finite number >= 0.`,
        `fix ${field(k)} in ${path} (0 leaves the domain out); ${hint}`,
      );
    }
    out[k] = v;
  }
  if (!Object.values(out).some((v) => v > 0)) {
    throw new TrainerError(
      'config-file',
      `Domain weights file ${path} has no weight > 0${Object.keys(out).length === 0 ? ' (no domains at all)' : ''}.`,
      hint,
    );
  }
  return out;
}

/**
 * Throws, naming the file, when `weights` name a domain the dataset does not have: the check the
 * trainer makes too, with the file to fix in the message.
 */
export function checkWeightsFitDomains(
  path: string,
  weights: Record<string, number>,
  domains: readonly string[],
): void {
  const unknown = Object.keys(weights).filter((k) => !domains.includes(k));
  if (unknown.length === 0) return;
  throw new TrainerError(
    'config-file',
    `Domain weights file ${path} names ${unknown.map((u) => `"${u}"`).join(', ')}, which the dataset does not have (its domains: ${domains.join(', ')}).`,
    "use weights computed on this dataset (`lrw doremi` / `lrw doge` with this --data), or rename the domains in the file to the dataset's.",
  );
}
