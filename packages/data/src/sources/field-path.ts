// Dotted field paths ("meta.redpajama_set_name") into parsed JSON records.

/** The value at a dotted path, or undefined when any step is missing. */
export function getField(record: unknown, path: string): unknown {
  let value: unknown = record;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Every field path of a record down to `depth` levels, for "the record has ..." messages. */
export function listFields(record: unknown, depth = 2, prefix = ''): string[] {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(record as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    out.push(path);
    if (depth > 1) out.push(...listFields(value, depth - 1, path));
  }
  return out;
}
