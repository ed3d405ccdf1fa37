/** Fused routines of the gpu.js backend (filled in below). */
import type { Routine } from '../backend.js';

export const gpuJsRoutines: Readonly<Record<string, Routine>> = {};
