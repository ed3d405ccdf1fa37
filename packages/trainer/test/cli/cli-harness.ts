import { runCli } from '../../src/cli/program.js';

/** Runs `lrw` in-process and captures what it prints. */
export async function lrw(
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    isTTY: false,
  });
  return { code, stdout, stderr };
}
