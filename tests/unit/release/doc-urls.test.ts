/**
 * Every reference the docs give users must resolve at the tag they pin: `OWNER/model-deploy-actions/<path>@v1`
 * (an action folder with its action.yml, or a reusable workflow file), `OWNER/model-deploy-actions@v1` (the
 * root action) and `raw.githubusercontent.com/OWNER/model-deploy-actions/v1/<path>` (the schema). The tag
 * holds this tree, so the paths must exist here.
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DOCS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

interface Ref {
  doc: string;
  line: number;
  text: string;
  path: string; // '' for the repository root
  kind: 'uses' | 'raw';
}

/** The references of one markdown text. `@v1`, `@v1.2.3`, `/v1/`, `/v1.2.3/` count; `@<sha>` placeholders do not. */
export function references(doc: string, text: string): Ref[] {
  const refs: Ref[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/(?<![\w./-])OWNER\/model-deploy-actions((?:\/[\w.-]+)*)@(v\d+(?:\.\d+\.\d+)?)\b/g)) {
      refs.push({ doc, line: i + 1, text: m[0], path: m[1]!.replace(/^\//, ''), kind: 'uses' });
    }
    for (const m of line.matchAll(/raw\.githubusercontent\.com\/OWNER\/model-deploy-actions\/(v\d+(?:\.\d+\.\d+)?)\/([\w./-]+[\w])/g)) {
      refs.push({ doc, line: i + 1, text: m[0], path: m[2]!, kind: 'raw' });
    }
  });
  return refs;
}

/** Why a reference would not resolve at the tag, or undefined when it does. */
function problem(ref: Ref): string | undefined {
  const full = path.join(ROOT, ref.path);
  if (ref.kind === 'raw') return fs.existsSync(full) && fs.statSync(full).isFile() ? undefined : `${ref.path} is not a file of the repository`;
  if (ref.path.startsWith('.github/workflows/')) {
    if (!fs.existsSync(full)) return `${ref.path} does not exist`;
    return /^\s*workflow_call\s*:/m.test(fs.readFileSync(full, 'utf8')) ? undefined : `${ref.path} is not a reusable workflow (no workflow_call)`;
  }
  const action = ['action.yml', 'action.yaml'].map((f) => path.join(full, f)).find((f) => fs.existsSync(f));
  return action ? undefined : `${ref.path || '(root)'} has no action.yml`;
}

describe('URLs and uses: references in the docs resolve at the tag', () => {
  const refs = DOCS.flatMap((doc) => references(doc, fs.readFileSync(path.join(ROOT, doc), 'utf8')));

  it('finds the references users copy (actions, reusable workflows, the root action, the schema)', () => {
    const paths = new Set(refs.map((r) => r.path));
    for (const p of ['', 'actions/deploy-endpoint', '.github/workflows/build-and-deploy.yml', 'schema/model-deploy.schema.json']) expect(paths).toContain(p);
    expect(refs.length).toBeGreaterThanOrEqual(15);
  });

  it.each(DOCS)('%s: every reference exists in the repository', (doc) => {
    const broken = refs.filter((r) => r.doc === doc).map((r) => ({ at: `${r.doc}:${r.line}`, ref: r.text, problem: problem(r) })).filter((r) => r.problem);
    expect(broken).toEqual([]);
  });

  it('the schema URL serves JSON Schema (the file editors download)', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'model-deploy.schema.json'), 'utf8'));
    expect(schema.$schema).toMatch(/json-schema\.org/);
  });

  it('reports a path that does not exist (the check is not vacuous)', () => {
    const fake = references('x.md', [
      'uses: OWNER/model-deploy-actions/actions/no-such-action@v1',
      'uses: OWNER/model-deploy-actions/.github/workflows/no-such.yml@v1',
      'uses: OWNER/model-deploy-actions/.github/workflows/ci.yml@v1',
      '$schema=https://raw.githubusercontent.com/OWNER/model-deploy-actions/v1/schema/gone.json',
      'uses: OWNER/model-deploy-actions/actions/deploy-endpoint@<sha> # v1.x.y',
    ].join('\n'));
    expect(fake.map((r) => r.path)).toEqual(['actions/no-such-action', '.github/workflows/no-such.yml', '.github/workflows/ci.yml', 'schema/gone.json']);
    expect(fake.map(problem)).toEqual([
      'actions/no-such-action has no action.yml',
      '.github/workflows/no-such.yml does not exist',
      '.github/workflows/ci.yml is not a reusable workflow (no workflow_call)',
      'schema/gone.json is not a file of the repository',
    ]);
  });

  it('points users at the npm package the project owns, never the unscoped model-deploy name', () => {
    for (const doc of DOCS) {
      const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
      expect({ doc, unscoped: text.match(/npx model-deploy\b/g) ?? [] }).toEqual({ doc, unscoped: [] });
    }
    expect(fs.readFileSync(path.join(ROOT, 'docs', 'getting-started.md'), 'utf8')).toContain('npx @model-deploy-actions/cli@1 validate --config model-deploy.yml');
  });
});
