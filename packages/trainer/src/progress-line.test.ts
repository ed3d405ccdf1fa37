import { describe, expect, it } from 'vitest';
import { formatDuration, formatProgress, formatRate, ProgressLine } from './progress-line.js';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (t: string) => chunks.push(t) } };
}

describe('formatting', () => {
  it('formats durations and rates', () => {
    expect(
      [0, 45.4, 62, 3599, 3600 + 3 * 60 + 29, 86400 * 3 + 4 * 3600].map(formatDuration),
    ).toEqual(['0s', '45s', '1m02s', '59m59s', '1h03m', '3d04h']);
    expect(formatDuration(Number.NaN)).toBe('?');
    expect([950, 12_345, 4_560_000].map(formatRate)).toEqual(['950', '12.3k', '4.56M']);
  });

  it('formats a progress line', () => {
    expect(
      formatProgress({ step: 120, loss: 3.45214, tokensPerSecond: 12_345 }, 2000, 62, 980),
    ).toBe('step  120/2000 (6.0%) | loss 3.4521 | 12.3k tok/s | elapsed 1m02s | ETA 16m20s');
    expect(
      formatProgress({ step: 3, loss: Number.NaN, note: 'skipped' }, 10, 1, 2, 'linupper'),
    ).toBe('linupper step  3/10 (30.0%) | loss NaN | elapsed 1s | ETA 2s | skipped');
  });
});

describe('ProgressLine', () => {
  it('on a terminal redraws one line in place and ends it on finish', () => {
    let t = 0;
    const { chunks, stream } = fakeStream(true);
    const p = new ProgressLine({ totalSteps: 4, stream, now: () => t });
    for (let s = 1; s <= 4; s++) {
      t += 1;
      p.update({ step: s, loss: 1 });
    }
    p.finish();
    expect(chunks.every((c) => c.startsWith('\r\x1b[2K') || c === '\n')).toBe(true);
    expect(chunks.at(-1)).toBe('\n');
    // 4 steps in 4 s: after step 2 (2 s), 2 steps remain -> ETA 2s
    expect(chunks[1]).toContain('step 2/4 (50.0%) | loss 1.0000 | elapsed 2s | ETA 2s');
  });

  it('in a log prints plain lines at the interval, plus the first and last step', () => {
    let t = 0;
    const { chunks, stream } = fakeStream(false);
    const p = new ProgressLine({ totalSteps: 100, stream, now: () => t, logIntervalSeconds: 10 });
    for (let s = 1; s <= 100; s++) {
      t += 0.5; // 20 steps per 10 s
      p.update({ step: s });
    }
    p.finish();
    expect(chunks.every((c) => c.endsWith('\n') && !c.includes('\r'))).toBe(true);
    expect(chunks.map((c) => Number(/step +(\d+)/.exec(c)![1]))).toEqual([1, 21, 41, 61, 81, 100]); // first at 0.5 s, then every 10 s
    p.log('checkpoint saved');
    expect(chunks.at(-1)).toBe('checkpoint saved\n');
  });

  it('measures the ETA from where a resumed run started', () => {
    let t = 0;
    const { chunks, stream } = fakeStream(false);
    const p = new ProgressLine({ totalSteps: 1000, stream, now: () => t, logIntervalSeconds: 0 });
    t = 10;
    p.update({ step: 501 }); // resumed at 500: one step in 10 s, 499 to go
    expect(chunks[0]).toContain('ETA 1h23m'); // 4990 s
  });
});
