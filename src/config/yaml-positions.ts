/**
 * The spec's YAML, read with positions: the data (js-yaml's fast reader when it can, see
 * ./yaml-core.ts), and where each field is written, found with the `yaml` library only when a problem
 * is pointed at. YAML errors (syntax, duplicate keys, alias bombs) are said with file:line.
 */
import { DeployError, SourceLocation, throwIfAny } from '../core/errors';
import type * as YamlLibrary from 'yaml';
import { readCoreYaml } from './yaml-core';

type Json = unknown;
export type PathPart = string | number;

export interface ParsedYaml {
  data: Json;
  locate(p: PathPart[], key?: boolean): SourceLocation;
}

const MAX_ALIAS_COUNT = 100;

/** The yaml library, loaded when positions are first needed (parseYaml): ~5 ms of every start otherwise. */
function yamlLibrary(): typeof YamlLibrary {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('yaml') as typeof YamlLibrary;
}

function yamlError(message: string, file: string, pos: { line: number; col: number } | undefined, hint: string): DeployError {
  return new DeployError(message, { location: { file, line: pos?.line, column: pos?.col }, title: 'Invalid YAML', hint });
}

/** The same key twice in one mapping: both lines, found in the parsed document. */
function duplicateKeys(doc: YamlLibrary.Document.Parsed, file: string, lineCounter: YamlLibrary.LineCounter): DeployError[] {
  const YAML = yamlLibrary();
  const out: DeployError[] = [];
  YAML.visit(doc, {
    Pair(_key, pair, path) {
      if (!YAML.isScalar(pair.key) || !pair.key.range) return;
      const parent = path[path.length - 1];
      if (!YAML.isMap(parent)) return;
      const first = parent.items.find((it) => YAML.isScalar(it.key) && it.key.value === (pair.key as YamlLibrary.Scalar).value);
      if (!first || first === pair || !YAML.isScalar(first.key) || !first.key.range) return;
      const where = path.filter(YAML.isPair).map((p) => String(YAML.isScalar(p.key) ? p.key.value : '?')).join('.');
      const was = lineCounter.linePos(first.key.range[0]);
      const now = lineCounter.linePos(pair.key.range[0]);
      out.push(
        yamlError(`duplicate key "${String(pair.key.value)}"${where ? ` in ${where}` : ''}: line ${was.line} and line ${now.line}`, file, now, `A key can appear once per mapping: keep line ${was.line} or line ${now.line}. If the second belongs to another mapping, fix its indentation (spaces, not tabs).`),
      );
    },
  });
  return out;
}

/** The first alias (*name) of the document, where an alias bomb starts expanding. */
function firstAlias(doc: YamlLibrary.Document.Parsed, lineCounter: YamlLibrary.LineCounter): { line: number; col: number } | undefined {
  const YAML = yamlLibrary();
  let at: { line: number; col: number } | undefined;
  YAML.visit(doc, {
    Alias(_key, node) {
      if (node.range) at = lineCounter.linePos(node.range[0]);
      return YAML.visit.BREAK;
    },
  });
  return at;
}

function toData(doc: YamlLibrary.Document.Parsed, file: string, lineCounter: YamlLibrary.LineCounter): Json {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Json;
  } catch (err) {
    // yaml's own text ("Excessive alias count ...") names neither the file nor the line.
    if (!/alias count/i.test((err as Error).message)) throw err;
    throw yamlError(
      `invalid YAML: its aliases (*name) expand to too much data (an alias used more than ${MAX_ALIAS_COUNT} times over); stopped before reading it`,
      file,
      firstAlias(doc, lineCounter),
      'Nested anchors and aliases multiply; a spec never needs this. Write the values out, or share them with defaults:.',
    );
  }
}

/** The spec read by the `yaml` library: every node's position, and the errors said where they are. */
function parseWithPositions(text: string, file: string): { data: Json; locate: ParsedYaml['locate'] } {
  const YAML = yamlLibrary();
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const duplicates = doc.errors.some((e) => e.code === 'DUPLICATE_KEY') ? duplicateKeys(doc, file, lineCounter) : [];
  const problems = [
    ...duplicates,
    ...doc.errors
      .filter((e) => e.code !== 'DUPLICATE_KEY' || duplicates.length === 0)
      .map((e) =>
        yamlError(`invalid YAML: ${e.message.split('\n')[0]}`, file, e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]), 'Fix the YAML syntax (indentation, quotes, a tab instead of spaces) at this position.'),
      ),
  ];
  throwIfAny(problems);
  return { data: toData(doc, file, lineCounter), locate: locator(doc, file, lineCounter) };
}

export function parseYaml(text: string, file: string): ParsedYaml {
  // The fast reader gives the data and, nearly always, the positions (src/config/yaml-core.ts); the `yaml`
  // library reads the text again only where it cannot be sure.
  const fast = readCoreYaml(text);
  let slow: ReturnType<typeof parseWithPositions> | undefined = fast === undefined ? parseWithPositions(text, file) : undefined;
  const data = slow ? slow.data : fast?.data;
  let lines: number[] | undefined;
  if (data === null || data === undefined) {
    throw new DeployError('the spec file is empty (or only comments)', {
      location: { file },
      title: 'Empty deployment spec',
      hint: 'Start from examples/model-deploy.yml (a deployments: mapping, one entry per model), or see schema/model-deploy.schema.json for every field.',
    });
  }
  return {
    data,
    locate: (p, key) => {
      const offset = slow ? undefined : fast?.offsetOf(p, key);
      if (offset !== undefined) return { file, ...linePosition(offset, (lines ??= lineStarts(text))) };
      slow ??= parseWithPositions(text, file);
      return slow.locate(p, key);
    },
  };
}

/** The offset of each line's first character, as the `yaml` library's LineCounter counts lines (by "\n"). */
function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

/** 1-based line and column of an offset, as LineCounter.linePos gives them. */
function linePosition(offset: number, starts: number[]): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] as number) + 1 };
}

function locator(doc: YamlLibrary.Document.Parsed, file: string, lineCounter: YamlLibrary.LineCounter): ParsedYaml['locate'] {
  const YAML = yamlLibrary();
  return (p, key = false) => {
    // Walk as deep as the document goes; report the deepest node that exists.
    for (let depth = p.length; depth >= 0; depth--) {
      const sub = p.slice(0, depth);
      let node: unknown;
      if (key && depth === p.length && depth > 0) {
        const parent = sub.length > 1 ? doc.getIn(sub.slice(0, -1), true) : doc.contents;
        if (YAML.isMap(parent)) {
          const pair = parent.items.find((it) => YAML.isScalar(it.key) && it.key.value === sub[sub.length - 1]);
          node = pair?.key;
        }
      }
      if (!node) node = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) {
        const pos = lineCounter.linePos(range[0]);
        return { file, line: pos.line, column: pos.col };
      }
    }
    return { file };
  };
}

/** The parsed value at a field path, or undefined where the document has none. */
export function valueAt(data: unknown, p: PathPart[]): unknown {
  let v = data;
  for (const part of p) v = (v as Record<string | number, unknown> | undefined)?.[part];
  return v;
}
