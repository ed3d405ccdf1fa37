import type { Routine } from '../backend.js';

/** The fused WGSL routines, by composite op name. */
export const webGpuRoutines: Readonly<Record<string, Routine>> = {};
