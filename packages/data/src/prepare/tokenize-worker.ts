import { parentPort, workerData } from 'node:worker_threads';
import { createTokenizer, type TokenizerSpec } from '../tokenizers/tokenizer.js';
import { encodeBatch } from './encode-batch.js';

// Worker thread of the tokenizer pool: receives { id, texts }, answers { id, tokens, lengths }
// with the buffers transferred (not copied), or { id, error }.
const port = parentPort;
if (!port) throw new Error('tokenize-worker must run in a worker thread');
const tokenizer = createTokenizer((workerData as { spec: TokenizerSpec }).spec);

port.on('message', async (message: { id: number; texts: string[] }) => {
  try {
    const { tokens, lengths } = encodeBatch(await tokenizer, message.texts);
    port.postMessage({ id: message.id, tokens, lengths }, [
      tokens.buffer as ArrayBuffer,
      lengths.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    port.postMessage({ id: message.id, error: String((error as Error)?.stack ?? error) });
  }
});
