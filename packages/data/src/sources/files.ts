import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { invalidOption } from '../errors.js';

/**
 * The files named by `paths`: files as given, folders expanded recursively to the files whose
 * names end with one of `extensions`, in sorted order so every run reads the same sequence.
 */
export function expandPaths(paths: string | string[], extensions: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of Array.isArray(paths) ? paths : [paths]) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch {
      throw invalidOption('source path', path, 'an existing file or folder');
    }
    if (stat.isDirectory()) out.push(...walk(path, extensions));
    else out.push(path);
  }
  return out;
}

function walk(dir: string, extensions: readonly string[]): string[] {
  const out: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full, extensions));
    else if (extensions.some((ext) => entry.name.toLowerCase().endsWith(ext))) out.push(full);
  }
  return out;
}

/** A file's name without folders and without its extensions: "a/arxiv.jsonl.zst" -> "arxiv". */
export function fileStem(file: string): string {
  const name = basename(file);
  const dot = name.indexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
