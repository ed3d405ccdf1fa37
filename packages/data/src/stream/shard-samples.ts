import type { ShardEntry } from '../shard/dataset-index.js';
import type { ShardData } from '../shard/shard-format.js';

/**
 * How documents become rows of T input tokens and T targets:
 * - 'concat': every document is preceded by end-of-text and the shard's documents are read as
 *   one stream, cut into chunks of T + 1 tokens (inputs = chunk[0..T), targets = chunk[1..T]),
 *   as llm.c and nanoGPT do for GPT-2; the last partial chunk of a shard is dropped.
 * - 'document': one document per row: [eot, tokens..., eot] in windows of T + 1 (a long
 *   document gives several rows, or only the first with longDocuments 'truncate'); the rest of
 *   the row is padded with end-of-text and masked out.
 */
export type Packing = 'concat' | 'document';

export interface SampleLayout {
  packing: Packing;
  seqLen: number;
  longDocuments: 'split' | 'truncate';
  eotId: number;
}

/** Samples in a shard when it can be told from the index alone (null: load the shard to count). */
export function sampleCountFromIndex(entry: ShardEntry, layout: SampleLayout): number | null {
  if (layout.packing === 'concat') {
    return Math.max(0, Math.floor((entry.tokens + entry.documents - 1) / layout.seqLen));
  }
  return layout.longDocuments === 'truncate' ? entry.documents : null;
}

/** Sample ids are (shard ordinal in the index) * 2^32 + (sample index in the shard). */
export const SAMPLE_ID_SHARD_FACTOR = 2 ** 32;

/** A shard in memory, able to write any of its samples into a batch row. */
export class LoadedShard {
  readonly count: number;
  private readonly pieceStart: Uint32Array | null = null;
  private readonly scratch: Int32Array;

  constructor(
    readonly ordinal: number,
    private readonly data: ShardData,
    private readonly layout: SampleLayout,
  ) {
    const T = layout.seqLen;
    const { docOffsets } = data;
    const docs = data.header.numDocs;
    this.scratch = new Int32Array(T + 1);
    if (layout.packing === 'concat') {
      this.count = Math.max(0, Math.floor((data.header.numTokens + docs - 1) / T));
    } else {
      const starts = new Uint32Array(docs + 1);
      for (let j = 0; j < docs; j++) {
        const n = docOffsets[j + 1] - docOffsets[j];
        starts[j + 1] =
          starts[j] + (layout.longDocuments === 'truncate' ? 1 : Math.ceil((n + 1) / T));
      }
      this.pieceStart = starts;
      this.count = starts[docs];
    }
  }

  /** Writes sample `local` into row `row` of (B, T) arrays: inputs, targets and mask. */
  fillRow(
    local: number,
    row: number,
    tokens: Int32Array,
    targets: Int32Array,
    mask: Float32Array,
  ): void {
    const T = this.layout.seqLen;
    const s = this.scratch;
    const at = row * T;
    if (this.layout.packing === 'concat') {
      this.fillConcat(local, s);
      tokens.set(s.subarray(0, T), at);
      targets.set(s.subarray(1, T + 1), at);
      mask.fill(1, at, at + T);
      return;
    }
    const real = this.fillDocument(local, s);
    tokens.set(s.subarray(0, T), at);
    targets.set(s.subarray(1, T + 1), at);
    mask.fill(1, at, at + real - 1);
    mask.fill(0, at + real - 1, at + T);
  }

  /** Chunk `i` of the virtual stream eot d0 eot d1 ...: positions [iT, iT + T + 1). */
  private fillConcat(i: number, out: Int32Array): void {
    const { docOffsets: off, tokens } = this.data;
    const docs = this.data.header.numDocs;
    const eot = this.layout.eotId;
    const T = this.layout.seqLen;
    let p = i * T;
    // Document j starts (with its end-of-text) at virtual position off[j] + j.
    let lo = 0;
    let hi = docs - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (off[mid] + mid <= p) lo = mid;
      else hi = mid - 1;
    }
    let j = lo;
    let k = 0;
    while (k < T + 1) {
      const start = off[j] + j;
      if (p === start) {
        out[k++] = eot;
        p++;
      } else {
        const end = off[j + 1] + j + 1; // exclusive virtual end of document j
        const n = Math.min(end - p, T + 1 - k);
        const from = off[j] + (p - start - 1);
        for (let q = 0; q < n; q++) out[k + q] = tokens[from + q];
        k += n;
        p += n;
      }
      if (p === off[j + 1] + j + 1) j++;
    }
  }

  /** Window of [eot, doc..., eot]; returns how many of its T + 1 positions are real. */
  private fillDocument(local: number, out: Int32Array): number {
    const starts = this.pieceStart as Uint32Array;
    const docs = this.data.header.numDocs;
    let lo = 0;
    let hi = docs - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= local) lo = mid;
      else hi = mid - 1;
    }
    const j = lo;
    const piece = local - starts[j];
    const { docOffsets: off, tokens } = this.data;
    const n = off[j + 1] - off[j];
    const eot = this.layout.eotId;
    const T = this.layout.seqLen;
    const begin = piece * T;
    const length = n + 2; // eot, n tokens, eot
    let real = 0;
    for (let k = 0; k <= T; k++) {
      const q = begin + k;
      if (q >= length) {
        out[k] = eot;
        continue;
      }
      real++;
      out[k] = q === 0 || q === n + 1 ? eot : tokens[off[j] + q - 1];
    }
    return real;
  }
}
