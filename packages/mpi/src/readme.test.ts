import { testReadmeSnippets } from '@lrw/config/readme-snippets';

// Every code block of the README runs and prints its stated output.
await testReadmeSnippets(new URL('../README.md', import.meta.url));
