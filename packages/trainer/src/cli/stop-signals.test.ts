import { afterEach, describe, expect, it, vi } from 'vitest';
import { stopOnSignals } from './stop-signals.js';

// The handlers run on process.emit exactly as on a delivered signal; process.exit is stubbed.
afterEach(() => vi.restoreAllMocks());

describe('stopOnSignals', () => {
  it('aborts on the first signal, ignores its echo, exits at once on a second one', () => {
    let now = 1_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const printed: string[] = [];
    const forwarded: string[] = [];
    const stop = stopOnSignals(
      { stderr: (t) => printed.push(t) },
      { onAgain: (s) => forwarded.push(s) },
    );
    try {
      expect(stop.signal.aborted).toBe(false);
      expect(stop.exitCode).toBeUndefined();
      process.emit('SIGINT');
      expect(stop.signal.aborted).toBe(true);
      expect(stop.signal.reason).toBe('SIGINT');
      expect(stop.exitCode).toBe(130);
      expect(printed.join('')).toContain(
        'stopping after the current step and writing a checkpoint',
      );
      now += 200; // the same Ctrl-C, through the parent of a child process
      process.emit('SIGINT');
      expect(exit).not.toHaveBeenCalled();
      now += 1_000;
      process.emit('SIGINT');
      expect(forwarded).toEqual(['SIGINT']);
      expect(exit).toHaveBeenCalledWith(130);
      expect(printed.at(-1)).toContain('SIGINT again: quitting now');
    } finally {
      stop.dispose();
    }
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('SIGTERM stops with 143', () => {
    const stop = stopOnSignals({ stderr: () => {} });
    try {
      process.emit('SIGTERM');
      expect(stop.signal.reason).toBe('SIGTERM');
      expect(stop.exitCode).toBe(143);
    } finally {
      stop.dispose();
    }
  });
});
