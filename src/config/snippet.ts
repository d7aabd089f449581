/**
 * A few lines of YAML showing what a mapping looks like, for errors where the spec has a scalar or a
 * list instead: the schema's example when it has one, else its required fields (then others) with a
 * value each, the written scalar in the field that accepts it.
 */
type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  examples?: unknown[];
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  additionalProperties?: Schema | boolean;
};

const MAX_FIELDS = 3;

export function mappingSnippet(key: string, schema: Schema, written: unknown): string | undefined {
  const value = schema.examples?.[0] ?? fromFields(schema, written);
  if (value === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return [`${key}:`, ...emit(value as Record<string, unknown>, 1)].join('\n');
}

/** The required fields first, then the others, up to MAX_FIELDS, each with a plausible value. */
function fromFields(schema: Schema, written: unknown): Record<string, unknown> | undefined {
  const props = schema.properties;
  if (!props) return undefined;
  // The required fields, and one more so the shape shows (engine: name and version).
  const required = schema.required ?? [];
  const names = [...new Set([...required, ...Object.keys(props)])].slice(0, Math.min(Math.max(required.length + 1, 2), Math.max(MAX_FIELDS, required.length)));
  // The scalar the user wrote belongs in the field whose values include it (engine: vllm → name: vllm).
  const home = names.find((n) => props[n]?.enum?.includes(written));
  return Object.fromEntries(names.map((n) => [n, n === home ? written : placeholder(props[n] ?? {})]));
}

function placeholder(s: Schema): unknown {
  if (s.examples?.[0] !== undefined) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (s.enum?.[0] !== undefined) return s.enum[0];
  if (s.minimum !== undefined) return s.minimum;
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  return type === 'array' ? [] : type === 'object' ? {} : '...';
}

function scalar(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(scalar).join(', ')}]`;
  if (v !== null && typeof v === 'object') return '{}';
  // Quote what YAML would read as another type or another value (account ids, "1.0", "yes", "a: b").
  if (typeof v === 'string' && v !== '...' && (/^[\d.]+$/.test(v) || /^(true|false|yes|no|null|~)$/i.test(v) || /: | #/.test(v) || /^[{[&*!|>'"%@`,]|^[-?] /.test(v))) return JSON.stringify(v);
  return String(v);
}

function emit(obj: Record<string, unknown>, depth: number): string[] {
  const pad = '  '.repeat(depth);
  return Object.entries(obj).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0
      ? [`${pad}${k}:`, ...emit(v as Record<string, unknown>, depth + 1)]
      : [`${pad}${k}: ${scalar(v)}`],
  );
}
