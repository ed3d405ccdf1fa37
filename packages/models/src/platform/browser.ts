// Browser stand-ins for ./node.js: a page has no file system, so the path-based functions
// (readSafetensors, writeSafetensors, loadHuggingFace, saveHuggingFace) throw a clear error,
// while everything that works on bytes (parseSafetensors, serializeSafetensors) runs as in Node.
import type * as node from './node.js';

function unavailable(name: string): never {
  throw new Error(
    `@lrw/models: ${name} needs a file system (Node). In a browser, fetch the bytes and use ` +
      'parseSafetensors(bytes) to read, serializeSafetensors(tensors) to write.',
  );
}

export const mkdir: typeof node.mkdir = () => unavailable('mkdir');
export const readFile: typeof node.readFile = () => unavailable('readFile');
export const writeFileAtomic: typeof node.writeFileAtomic = () => unavailable('writeFileAtomic');
export const dirname: typeof node.dirname = () => unavailable('dirname');
export const join: typeof node.join = () => unavailable('join');
