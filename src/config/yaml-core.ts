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
  if (NEEDS_YAML_LIBRARY.test(text)) return undefined;
  try {
    return load(text, { schema: core, json: false });
  } catch {
    return undefined;
  }
}
