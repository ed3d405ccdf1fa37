import { STRATEGY_NAMES } from '@lrw/strategies';
import { describe, expect, it } from 'vitest';
import { CAPPED_STRATEGIES } from './random-instances.js';

describe('the strategies of the random instances come from @lrw/strategies', () => {
  it('capped: the normalized strategies whose scores span at most 1, in descriptor order', () => {
    // The seeds of the verification draw from this list: its order is part of what they mean.
    expect(CAPPED_STRATEGIES).toEqual(['linupper', 'quadratic', 'extremes', 'linear']);
    expect(STRATEGY_NAMES).toEqual(['uniform', ...CAPPED_STRATEGIES, 'dro-kl']);
  });
});
