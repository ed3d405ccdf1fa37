export const ROOT: string;
export const PACKAGES: string[];
export function importMap(): Promise<{ imports: Record<string, string> }>;
export function serve(options?: { host?: string; port?: number }): Promise<{
  /** Base URL of the server. */
  url: string;
  /** URL of the browser-check page. */
  page: string;
  close(): Promise<void>;
}>;
