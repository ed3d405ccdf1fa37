/**
 * @lrw/random: seeded, checkpointable randomness for reproducible training (the same seed gives
 * the same stream, on resume too). Zero dependencies. See README.md.
 */
export { hashSeed } from './hash-seed.js';
export { permutation } from './permutation.js';
export { type RngState, Xoshiro128 } from './xoshiro128.js';
