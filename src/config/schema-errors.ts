/** Ajv's schema errors in the user's words: which field, what is wrong, where it is written, what would be valid. */
import type { ErrorObject } from 'ajv';
import { DeployError, SourceLocation } from '../core/errors';
import { mappingSnippet } from './snippet';
import { didYouMean } from './suggest';
import { ParsedYaml, PathPart, valueAt } from './yaml-positions';

function pathOf(instancePath: string): PathPart[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** The schema object holding the failed keyword (Ajv's verbose mode), whatever $ref led there. */
function schemaOf(e: ErrorObject): Record<string, unknown> | undefined {
  return e.parentSchema as Record<string, unknown> | undefined;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'string' ? `"${v}"` : `${typeof v} ${String(v)}`;
}

function fieldName(p: PathPart[]): string {
  return p.length === 0 ? 'the document' : p.map((x) => (typeof x === 'number' ? `[${x}]` : x)).join('.').replace(/\.\[/g, '[');
}

interface Described {
  message: string;
  hint?: string;
  location: SourceLocation;
}

/** One Ajv error in the user's words: what is wrong with which field, and what would be valid. */
function describeSchemaError(e: ErrorObject, p: PathPart[], yaml: ParsedYaml): Described | undefined {
  const field = fieldName(p);
  const value = valueAt(yaml.data, p);
  const location = yaml.locate(p);
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const desc = (schemaOf(e)?.properties as Record<string, { description?: string }> | undefined)?.[missing]?.description;
      return { message: `${field} is missing the required field "${missing}"`, hint: desc ? `${missing}: ${desc}` : undefined, location };
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((schemaOf(e)?.properties as object | undefined) ?? {});
      return {
        message: `${field} has an unknown field "${extra}"`,
        hint: `${didYouMean(extra, allowed, 1)} Valid fields: ${allowed.join(', ')}.`.trim(),
        location: yaml.locate([...p, extra], true),
      };
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const hint = `${typeof value === 'string' ? didYouMean(value, allowed) + ' ' : ''}Valid values: ${allowed.join(', ')}.`;
      return { message: `${field} is ${describeValue(value)}, which is not valid`, hint, location };
    }
    case 'const':
      return { message: `${field} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, not ${describeValue(value)}`, location };
    case 'type': {
      const t = (e.params as { type: string }).type;
      const wanted = t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`;
      const key = p[p.length - 1];
      const snippet = t === 'object' && typeof key === 'string' ? mappingSnippet(key, schemaOf(e) ?? {}, value) : undefined;
      return { message: `${field} must be ${wanted}, not ${describeValue(value)}`, hint: snippet ? `For example:\n${snippet}` : undefined, location };
    }
    case 'pattern': {
      if (e.propertyName !== undefined) {
        return {
          message: `${field} has an invalid name "${e.propertyName}"`,
          // The propertyNames schema states its rule; the pattern is the rule's only other copy.
          hint: (schemaOf(e) as { description?: string } | undefined)?.description ?? `Names must match ${(e.params as { pattern: string }).pattern}.`,
          location: yaml.locate([...p, e.propertyName], true),
        };
      }
      const desc = (schemaOf(e) as { description?: string } | undefined)?.description;
      return { message: `${field} is ${describeValue(value)}, which is not valid`, hint: desc ?? `It must match ${(e.params as { pattern: string }).pattern}.`, location };
    }
    case 'propertyNames':
      return undefined;
    case 'oneOf':
      return { message: `${field} is not valid`, hint: (schemaOf(e) as { description?: string } | undefined)?.description, location };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'uniqueItems':
      return { message: `${field} is ${describeValue(value)}: it ${e.message}`, location };
    default:
      return { message: `${field} ${e.message ?? 'is not valid'}`, location };
  }
}

export function schemaErrors(errors: ErrorObject[], yaml: ParsedYaml, base: PathPart[] = []): DeployError[] {
  // A oneOf reports each branch's failures too: keep only the oneOf itself.
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.schemaPath);
  const relevant = errors.filter(
    (e) => !oneOfPaths.some((p) => e.schemaPath !== p && e.schemaPath.startsWith(p.slice(0, -'oneOf'.length) + 'oneOf/')) &&
      e.keyword !== 'if' && !(e.keyword === 'propertyNames' && errors.some((o) => o.keyword === 'pattern' && o.propertyName)),
  );
  const out: DeployError[] = [];
  const seen = new Set<string>();
  for (const e of relevant) {
    const described = describeSchemaError(e, [...base, ...pathOf(e.instancePath)], yaml);
    if (!described) continue;
    const { message, hint, location } = described;
    const key = `${location.line}:${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(new DeployError(message, { location, hint, title: 'Invalid deployment spec' }));
  }
  return out;
}
