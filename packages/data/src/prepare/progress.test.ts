import { describe, expect, it } from 'vitest';
import { consoleProgress } from './progress.js';

describe('consoleProgress', () => {
  it('prints documents, MB, tokens, tokens/s, MB/s and the ETA on one line', () => {
    const lines: string[] = [];
    const print = consoleProgress((line) => lines.push(line));
    const base = {
      documents: 1234,
      totalDocuments: 5000,
      textBytes: 12.3e6,
      totalTextBytes: 50e6,
      tokens: 2345678,
      elapsedSeconds: 10,
      tokensPerSecond: 310000,
      megabytesPerSecond: 1.23,
      shardsWritten: 2,
      shardsSkipped: 1,
    };
    print({ ...base, phase: 'tokenize', etaSeconds: 30.2 });
    print({ ...base, phase: 'scan', etaSeconds: Number.NaN });
    print({ ...base, phase: 'done', etaSeconds: 0 });
    expect(lines[0]).toBe(
      'tokenize 1,234/5,000 docs  12.3/50.0 MB  2,345,678 tokens  310,000 tok/s  1.23 MB/s  ETA 31s',
    );
    expect(lines[1]).toMatch(/ETA \?$/);
    expect(lines[2]).toMatch(/10\.0s, 2 shards written, 1 skipped$/);
  });
});
