/**
 * The fast way to read a spec: js-yaml with the YAML 1.2 core schema, the schema the `yaml` library
 * (src/config/yaml-positions.ts) reads specs with. js-yaml parses a 200-line spec in ~1-5 ms where `yaml`,
 * which keeps every node's position, takes ~20 ms cold: most of what a PR's cost check does.
 * Positions are needed only to point at a problem, so yaml-positions.ts parses with `yaml` again when one is
 * asked for (an error, a warning), and always when this returns undefined.
 *
 * Undefined (use the `yaml` library) when the text uses what the two could read differently or
 * where `yaml` protects us: anchors, aliases and tags (alias bombs are stopped there), directives,
 * or anything js-yaml refuses (duplicate keys, syntax errors: `yaml` then says where and why).
 */
import { FAILSAFE_SCHEMA, Type, load } from 'js-yaml';

// YAML 1.2.2 section 10.3.2, as the `yaml` library's core schema resolves plain scalars.
const core = FAILSAFE_SCHEMA.extend({
  implicit: [
    new Type('tag:yaml.org,2002:null', {
      kind: 'scalar',
      resolve: (s: string) => s === '' || s === '~' || s === 'null' || s === 'Null' || s === 'NULL',
      construct: () => null,
    }),
    new Type('tag:yaml.org,2002:bool', {
      kind: 'scalar',
      resolve: (s: string) => /^(?:true|True|TRUE|false|False|FALSE)$/.test(s),
      construct: (s: string) => s[0] === 't' || s[0] === 'T',
    }),
    new Type('tag:yaml.org,2002:int', {
      kind: 'scalar',
      resolve: (s: string) => /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/.test(s),
      construct: (s: string) => (s.startsWith('0o') ? parseInt(s.slice(2), 8) : s.startsWith('0x') ? parseInt(s.slice(2), 16) : parseInt(s, 10)),
    }),
    new Type('tag:yaml.org,2002:float', {
      kind: 'scalar',
      resolve: (s: string) => /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/.test(s),
      construct: (s: string) => (/inf$/i.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : /nan$/i.test(s) ? NaN : parseFloat(s)),
    }),
  ],
});

/** An anchor, alias or tag where a node starts, or a directive: left to the `yaml` library. */
const NEEDS_YAML_LIBRARY = /(?:^|[\s[\]{},])[&*!]|^%/m;

/** The spec's data, or undefined when the `yaml` library must read it (see above). */
export function loadCoreYaml(text: string): unknown {
  return readCoreYaml(text)?.data;
}

/** A node as js-yaml's listener sees it: where its reading started and ended, what it read, its nodes. */
interface CoreNode {
  start: number;
  end: number;
  kind: string | null;
  result: unknown;
  children: CoreNode[];
}

export interface CoreYaml {
  data: unknown;
  /**
   * The offset where the node at `p` starts (its key's, with `key`), as the `yaml` library's node range
   * gives it; for a path the document lacks, the deepest node it has. Undefined where this reader cannot
   * be sure (an empty value, a tree that does not line up with the data): the caller asks the `yaml` library.
   */
  offsetOf(p: readonly (string | number)[], key?: boolean): number | undefined;
}

/**
 * The spec's data and where each node starts, from one js-yaml read: js-yaml reports each node it reads
 * (its `listener` option); a node's start is where its reading began, after blanks and comments. Every
 * mapping and sequence on a path is checked to hold exactly the data's keys and items, the same objects,
 * before a position is trusted. ~1 ms where the `yaml` library's second read of a spec costs 20-40 ms.
 */
export function readCoreYaml(text: string): CoreYaml | undefined {
  if (NEEDS_YAML_LIBRARY.test(text)) return undefined;
  const root: CoreNode = { start: 0, end: 0, kind: null, result: undefined, children: [] };
  const stack: CoreNode[] = [root];
  let data: unknown;
  try {
    data = load(text, {
      schema: core,
      json: false,
      listener(event, state) {
        if (event === 'open') {
          const node: CoreNode = { start: state.position, end: state.position, kind: null, result: undefined, children: [] };
          stack[stack.length - 1]?.children.push(node);
          stack.push(node);
        } else {
          const node = stack.pop();
          if (node) Object.assign(node, { end: state.position, kind: state.kind, result: state.result });
        }
      },
    });
  } catch {
    return undefined;
  }
  const top = root.children.length === 1 ? root.children[0] : undefined;
  return { data, offsetOf: (p, key = false) => (top && top.result === data ? offsetIn(text, top, p, key) : undefined) };
}

/** Undefined: cannot be sure; null: the document has no such node. */
function child(node: CoreNode, part: string | number): { key?: CoreNode; value: CoreNode } | null | undefined {
  if (node.kind === 'mapping') {
    const value = node.result as Record<string, unknown>;
    if (node.children.length !== 2 * Object.keys(value).length) return undefined;
    for (let i = 0; i + 1 < node.children.length; i += 2) {
      const k = node.children[i] as CoreNode;
      if (typeof k.result !== 'string') return undefined;
      if (k.result !== part) continue;
      const v = node.children[i + 1] as CoreNode;
      return Object.is(v.result, value[part]) ? { key: k, value: v } : undefined;
    }
    return null;
  }
  if (node.kind === 'sequence') {
    const items = node.result as unknown[];
    if (node.children.length !== items.length) return undefined;
    if (typeof part !== 'number') return null;
    const v = node.children[part];
    if (!v) return null;
    return Object.is(v.result, items[part]) ? { value: v } : undefined;
  }
  return node.kind === 'scalar' ? null : undefined;
}

/** Where a node's text starts: past the blanks and comments before it; undefined for an empty node (no text). */
function startOf(text: string, node: CoreNode): number | undefined {
  let i = node.start;
  for (;;) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
    else if (c === '#') while (i < text.length && text[i] !== '\n') i++;
    else break;
  }
  if (node.kind === 'mapping' || node.kind === 'sequence') return i;
  // A scalar: its text must be there (an empty value's position is the `yaml` library's to say).
  if (node.kind !== 'scalar' || i >= node.end) return undefined;
  return node.result === null && !/^(?:null|Null|NULL|~)/.test(text.slice(i, i + 4)) ? undefined : i;
}

function offsetIn(text: string, top: CoreNode, p: readonly (string | number)[], key: boolean): number | undefined {
  // As the `yaml` locator: the deepest node of the path the document has (its key, when asked for the whole path's key).
  const nodes: { key?: CoreNode; value: CoreNode }[] = [{ value: top }];
  for (const part of p) {
    const next = child((nodes[nodes.length - 1] as { value: CoreNode }).value, part);
    if (next === undefined) return undefined;
    if (next === null) break;
    nodes.push(next);
  }
  const deepest = nodes[nodes.length - 1] as { key?: CoreNode; value: CoreNode };
  const node = key && nodes.length === p.length + 1 && p.length > 0 && deepest.key ? deepest.key : deepest.value;
  return startOf(text, node);
}
