import { testReadmeSnippets } from '@lrw/config/readme-snippets';

// Every code block of the README runs (against the built packages, imported by name) and prints
// its stated output.
await testReadmeSnippets(new URL('../README.md', import.meta.url), {
  mustUse: ['compareRuns(', 'Trainer.create(', 'CheckpointStore(', 'runSimulatedRanks('],
});

// The guides the README links to with programs in them (the others hold shell sessions only).
await testReadmeSnippets(new URL('../docs/domain-reweighting.md', import.meta.url));
await testReadmeSnippets(new URL('../docs/building-blocks.md', import.meta.url), {
  mustUse: ['lrSchedule(', 'MetricsWriter.open(', 'StepGuard('],
});

// The repository's README (its example uses @lrw/strategies; this package depends on all).
await testReadmeSnippets(new URL('../../../README.md', import.meta.url));
