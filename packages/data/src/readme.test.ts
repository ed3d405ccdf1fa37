import { testReadmeSnippets } from '@lrw/config/readme-snippets';

// Every code block of the README runs (against the built package, imported by name) and prints
// its stated output. The quick start needs the default corpus's optional npm packages, which
// `npm ci` installs.
await testReadmeSnippets(new URL('../README.md', import.meta.url), {
  mustUse: ['defaultCorpus(', "schema: 'slimpajama'"],
});
