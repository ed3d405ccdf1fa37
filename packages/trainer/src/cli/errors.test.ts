import { DataError, MissingPackageError } from '@lrw/data';
import { describe, expect, it } from 'vitest';
import { TrainerError } from '../trainer-error.js';
import { describeFailure } from './errors.js';
import { CliError } from './io.js';

const P = 'lrw train: ';

function systemError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something, ${syscall} '${path}'`), {
    code,
    syscall,
    path,
    errno: -1,
  });
}

describe("the CLI's error policy", () => {
  it('a CliError: its message and hint, exit 2 or its own code', () => {
    expect(describeFailure(new CliError('bad flag.', 'use --x.'), P)).toEqual({
      text: 'lrw train: bad flag.\nHINT: use --x.\n',
      exitCode: 2,
    });
    expect(describeFailure(new CliError('stopped.', undefined, 130), P).exitCode).toBe(130);
  });

  it("errors of the lrw packages: the message once, the CLI's hint instead of the library's", () => {
    const bad = new TrainerError(
      'too-many-bad-steps',
      'Training stopped at step 9.',
      'raise maxConsecutiveBad.',
    );
    const text = describeFailure(bad, P).text;
    expect(
      text.startsWith(
        'lrw train: Training stopped at step 9.\nHINT: resume from the latest checkpoint',
      ),
    ).toBe(true);
    expect(text).toContain('--guard-max-bad');
    expect(text).not.toContain('maxConsecutiveBad');
    expect(text.match(/HINT/g)).toHaveLength(1);
    const pkg = describeFailure(new MissingPackageError('@lrw/corpus-x', 'x'), 'lrw prepare: ');
    expect(pkg.text).toContain(
      'HINT: run `npm install @lrw/corpus-x`, or leave its domain out with --domains.',
    );
    expect(pkg.exitCode).toBe(1);
    // an input error of another package, known by its name
    const task = Object.assign(new Error('piqa.yaml: unknown field'), { name: 'TaskConfigError' });
    expect(describeFailure(task, 'lrw eval: ').text).toBe('lrw eval: piqa.yaml: unknown field\n');
    const data = new DataError('UNSUPPORTED_INPUT', 'x.jsonl: cannot read', { hint: 'check it' });
    expect(describeFailure(data, P).text).toBe('lrw train: x.jsonl: cannot read\nHINT: check it\n');
  });

  it('system errors: what failed on which path, and what to do', () => {
    const full = describeFailure(systemError('ENOSPC', 'write', '/runs/a/metrics.jsonl'), P);
    expect(full.text).toBe(
      'lrw train: /runs/a/metrics.jsonl: the disk is full (ENOSPC)\nHINT: free some space, then resume with --resume: checkpoints and dataset files are written atomically, so the last complete one is intact.\n',
    );
    expect(describeFailure(systemError('ENOENT', 'open', '/d/x.bin'), P).text).toBe(
      'lrw train: /d/x.bin: no such file or folder (open)\nHINT: check the path.\n',
    );
    expect(describeFailure(systemError('EACCES', 'mkdir', '/root/x'), P).text).toContain(
      'permission denied (mkdir)',
    );
  });

  it('a backend limit or exhausted memory (RangeError) is a message with what to lower', () => {
    const limit = new RangeError(
      "webgpu.alloc: 300 MiB exceed the device's maxStorageBufferBindingSize (128 MiB); use smaller tensors",
    );
    const t = describeFailure(limit, P).text;
    expect(t).toMatch(
      /^lrw train: the tensor backend cannot run this size: webgpu\.alloc: 300 MiB/,
    );
    expect(t).toContain(
      'HINT: use a smaller --batch-size, --seq-len or --model, or another --backend',
    );
    expect(t).not.toContain('    at ');
    const oom = describeFailure(new RangeError('Array buffer allocation failed'), P).text;
    expect(oom).toContain('lrw train: out of memory (Array buffer allocation failed)');
  });

  it('anything else is a bug in lrw: the stack and a request to report it', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'shape')");
    const f = describeFailure(bug, P);
    expect(f.exitCode).toBe(1);
    expect(f.text).toContain(
      "lrw train: internal error: TypeError: Cannot read properties of undefined (reading 'shape')\n    at ",
    );
    expect(f.text).toContain(
      'This is a bug in lrw, not a problem with your input; please report it',
    );
    // a RangeError that is not a limit is a bug too
    expect(describeFailure(new RangeError('index 9 out of range'), P).text).toContain(
      'internal error',
    );
  });
});
