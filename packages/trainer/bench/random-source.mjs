/**
 * Random tokens for the training benchmarks, as the PyTorch scripts train on (a deterministic
 * LCG): a resumable data source of batches of `batchSize` x `seqLen` tokens below `vocab`.
 */
export function randomSource(vocab, batchSize, seqLen) {
  const n = batchSize * seqLen;
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  return {
    async next() {
      const tokens = Int32Array.from({ length: n }, () => next() % vocab);
      const targets = Int32Array.from({ length: n }, () => next() % vocab);
      return {
        tokens,
        targets,
        mask: new Float32Array(n).fill(1),
        domainIds: new Int32Array(batchSize),
        batchSize,
        seqLen,
      };
    },
    state: () => ({ s }),
    load: (st) => {
      s = st.s;
    },
  };
}
