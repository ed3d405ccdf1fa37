/** A js or ts code block of a README, with its 1-based line and its stated output, if any. */
export interface ReadmeSnippet {
  lang: 'js' | 'ts';
  code: string;
  line: number;
  output: string | undefined;
}

export function readmeSnippets(markdown: string): ReadmeSnippet[];

export function runSnippet(
  snippet: Pick<ReadmeSnippet, 'lang' | 'code'>,
  dir: string,
  timeoutMs?: number,
): Promise<{ status: number | null; stdout: string; stderr: string; error: Error | undefined }>;

/** Registers the vitest tests of a README's code blocks (see readme-snippets.mjs). */
export function testReadmeSnippets(
  readmeUrl: URL,
  options?: { mustUse?: string[]; timeoutMs?: number },
): Promise<void>;
