import type { Command } from 'commander';
import { integer, list } from './options.js';

/** The evaluation flags `lrw eval` and `lrw compare` share (@lrw/eval tasks, perplexity batches). */
export interface TaskFlags {
  tasks?: string[];
  taskData?: string;
  taskFile?: string[];
  numFewshot?: number;
  limit?: number;
  evalBatches?: number;
}

/** Adds the `TaskFlags` options; `evalBatches` says what the validation batches are for. */
export function addTaskFlags(command: Command, evalBatches: string): Command {
  return command
    .option(
      '--tasks <list>',
      'few-shot tasks, comma-separated: piqa, sciq, logiqa, logiqa2, arc_easy, ...',
      list,
    )
    .option(
      '--task-data <dir>',
      'folder laid out like shared/data/eval (piqa/valid.jsonl, sciq/test.json, ...)',
    )
    .option(
      '--task-file <task:split=path>',
      'data file of one task split; repeatable',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option('--num-fewshot <n>', "few-shot examples (default: the task YAML's, else 0)", integer(0))
    .option('--limit <n>', 'evaluate only the first n documents of each task', integer(1))
    .option('--eval-batches <n>', `${evalBatches} (default: the whole split)`, integer(1));
}
