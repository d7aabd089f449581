/**
 * The result file written piece by piece: the same bytes as `JSON.stringify(value) + '\n'`, without
 * holding the whole text in memory at once (1000 deployments x 6 regions is tens of MB, and as a
 * JavaScript string with "–" or "→" in it, twice that).
 */
import * as fs from 'fs';

/** Writes `value` as compact JSON; objects and arrays down to `depth` levels are written member by member. */
export function writeJsonFile(file: string, value: unknown, depth = 3): void {
  const fd = fs.openSync(file, 'w');
  try {
    const out: string[] = [];
    let pending = 0;
    const emit = (s: string) => {
      out.push(s);
      pending += s.length;
      // Flushed in chunks of about 1 MB: few system calls, a bounded buffer.
      if (pending > 1 << 20) flush();
    };
    const flush = () => {
      if (out.length) fs.writeSync(fd, out.join(''));
      out.length = 0;
      pending = 0;
    };
    write(value, depth, emit, false);
    emit('\n');
    flush();
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * An array whose items are made as they are written (writeJsonFile) and dropped after: a large part
 * of the file never held whole in memory. JSON.stringify sees the whole array (toJSON).
 */
export class JsonItems<T, S = unknown> {
  constructor(
    private readonly source: readonly S[],
    private readonly make: (item: S, index: number) => T,
  ) {}
  get length(): number {
    return this.source.length;
  }
  item(index: number): T {
    return this.make(this.source[index] as S, index);
  }
  toJSON(): T[] {
    return this.source.map((_, i) => this.item(i));
  }
}

const skipped = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** JSON.stringify's rules: undefined members left out of objects, null in arrays; toJSON honoured. */
function write(value: unknown, depth: number, emit: (s: string) => void, inArray: boolean): void {
  if (skipped(value)) {
    if (inArray) emit('null');
    return;
  }
  if (value instanceof JsonItems) {
    emit('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) emit(',');
      write(value.item(i), depth - 1, emit, true);
    }
    emit(']');
    return;
  }
  const hasToJson = typeof (value as { toJSON?: unknown } | null)?.toJSON === 'function';
  if (depth <= 0 || value === null || typeof value !== 'object' || hasToJson) {
    emit(JSON.stringify(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    emit('[');
    value.forEach((item, i) => {
      if (i > 0) emit(',');
      write(item, depth - 1, emit, true);
    });
    emit(']');
    return;
  }
  emit('{');
  let first = true;
  for (const [key, member] of Object.entries(value)) {
    if (skipped(member)) continue;
    emit(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    write(member, depth - 1, emit, false);
  }
  emit('}');
}
