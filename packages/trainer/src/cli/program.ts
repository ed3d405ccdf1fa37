import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerBounds } from './commands/bounds.js';
import { registerCompare } from './commands/compare.js';
import { registerDemo } from './commands/demo.js';
import { registerDomainWeights } from './commands/domain-weights.js';
import { registerEval } from './commands/eval.js';
import { registerPrepare } from './commands/prepare.js';
import { registerReport } from './commands/report.js';
import { registerTrain } from './commands/train.js';
import { describeFailure } from './errors.js';
import { type CliIo, processIo } from './io.js';

function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/**
 * The `lrw` program (commander). Unknown commands and options get commander's "Did you mean"
 * suggestion; every command has --help with examples.
 */
export function createProgram(io: CliIo = processIo): Command {
  const program = new Command('lrw');
  program
    .description(
      'Pretraining with dynamic loss-based sample reweighting (Sow et al., ICLR 2025): prepare data, train, evaluate, compare methods, report, and the theory bounds.',
    )
    .version(packageVersion(), '-V, --version')
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
    })
    // Inherited by every command added below.
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      '\nStart with:\n  lrw demo                         uniform vs linupper on the embedded corpus (~1-3 min on 2 cores)\n  lrw <command> --help             options and examples of a command\n',
    );
  registerPrepare(program, io);
  registerTrain(program, io);
  registerEval(program, io);
  registerCompare(program, io);
  registerDomainWeights(program, io);
  registerReport(program, io);
  registerBounds(program, io);
  registerDemo(program, io);
  return program;
}

/**
 * Runs `lrw` with `argv` (without the node and script paths) and returns the exit code: 0 ok,
 * 1 a failure while running (its message and hint printed; a stack only for a bug in lrw, see
 * cli/errors.ts), 2 a usage error, 130 or 143 a run stopped by Ctrl-C or SIGTERM.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit with 0; usage errors were already printed by commander
      return e.exitCode === 0 ? 0 : 2;
    }
    const command = argv.find((a) => !a.startsWith('-')) ?? '';
    const failure = describeFailure(e, command ? `lrw ${command}: ` : 'lrw: ');
    io.stderr(failure.text);
    return failure.exitCode;
  }
}
