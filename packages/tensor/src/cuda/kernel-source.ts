/**
 * The CUDA C sources of the kernels (packages/tensor/cuda/*.cu): flattening the `#include`s into
 * one translation unit (what NVRTC compiles at run time, and what the build hands to nvcc), the
 * kernel names they define, and a content hash that names compiled images in caches.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** `kernels.cu` with every local `#include "..."` inlined once (`#pragma once` honoured). */
export function flattenSource(entry: string): string {
  const seen = new Set<string>();
  const visit = (file: string): string => {
    if (seen.has(file)) return '';
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    return text
      .split('\n')
      .map((line) => {
        const m = /^\s*#include\s+"([^"]+)"/.exec(line);
        if (m) return visit(join(dirname(file), m[1]!));
        return /^\s*#pragma once/.test(line) ? '' : line;
      })
      .join('\n');
  };
  return visit(entry);
}

/** Names of the kernels (`LRW_KERNEL(name, Params)`) a source defines, in order. */
export function kernelNames(source: string): string[] {
  return [...source.matchAll(/^LRW_KERNEL\((\w+),\s*\w+\)/gm)].map((m) => m[1]!);
}

/**
 * A short hash of the flattened source's code (names compiled images): line comments and blank
 * lines are left out, so editing a comment does not force nvcc to run again.
 */
export function sourceHash(source: string): string {
  const code = source
    .split('\n')
    .map((l) => l.replace(/\/\/.*$/, '').trimEnd())
    .filter((l) => l.length > 0)
    .join('\n');
  return createHash('sha256').update(code).digest('hex').slice(0, 16);
}
