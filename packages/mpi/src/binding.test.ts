import { afterEach, describe, expect, it } from 'vitest';
import { loadMpiAddon, mpiAvailability } from './binding.js';
import { MpiError } from './mpi-error.js';

describe('loading the addon', () => {
  const saved = process.env.LRW_MPI_ADDON;
  afterEach(() => {
    if (saved === undefined) delete process.env.LRW_MPI_ADDON;
    else process.env.LRW_MPI_ADDON = saved;
  });

  it('says what to install when the addon is not built', () => {
    process.env.LRW_MPI_ADDON = '/nonexistent/lrw_mpi.node';
    let caught: unknown;
    try {
      loadMpiAddon();
    } catch (e) {
      caught = e;
    }
    expect(MpiError.isInstance(caught)).toBe(true);
    const e = caught as MpiError;
    expect(e.code).toBe('mpi-unavailable');
    expect(e.message).toContain('/nonexistent/lrw_mpi.node is not built');
    expect(e.hint).toContain('apt-get install openmpi-bin libopenmpi-dev');
    expect(e.hint).toContain('npm run build');
    expect(mpiAvailability()).toEqual({
      available: false,
      reason: expect.stringContaining('is not built'),
    });
  });

  it('says why when the file is not a loadable addon', () => {
    process.env.LRW_MPI_ADDON = new URL('../package.json', import.meta.url).pathname;
    expect(() => loadMpiAddon()).toThrow(/failed to load/);
  });
});
