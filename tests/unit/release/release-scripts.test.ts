/** scripts/changelog-section.js (release notes) and scripts/release-version.js (what a release moves). */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
 
const { changelogSection, normalizeVersion } = require(path.join(ROOT, 'scripts', 'changelog-section.js'));
 
const { releasePlan } = require(path.join(ROOT, 'scripts', 'release-version.js'));

const CHANGELOG = `# Changelog

Intro text.

## [Unreleased]
### Added
- not yet

## [1.10.0] - 2025-04-01
### Added
- ten

## [1.1.0] - 2025-03-01
### Changed
- one-one

## [1.0.0] - 2025-02-01

### Added
- first

[Unreleased]: https://github.com/o/r/compare/v1.10.0...HEAD
[1.10.0]: https://github.com/o/r/compare/v1.1.0...v1.10.0
[1.0.0]: https://github.com/o/r/releases/tag/v1.0.0
`;

describe('changelogSection', () => {
  it('returns the body of one version, up to the next version', () => {
    expect(changelogSection(CHANGELOG, '1.1.0')).toBe('### Changed\n- one-one');
    expect(changelogSection(CHANGELOG, '1.10.0')).toBe('### Added\n- ten');
  });

  it('stops at the link references at the end of the file', () => {
    expect(changelogSection(CHANGELOG, '1.0.0')).toBe('### Added\n- first');
  });

  it('accepts v1.2.3 and refs/tags/v1.2.3, as a tag push gives them', () => {
    expect(changelogSection(CHANGELOG, 'v1.1.0')).toBe('### Changed\n- one-one');
    expect(changelogSection(CHANGELOG, 'refs/tags/v1.1.0')).toBe('### Changed\n- one-one');
    expect(normalizeVersion('v2.0.0-rc.1')).toBe('2.0.0-rc.1');
  });

  it('never matches a version by prefix or as a regular expression', () => {
    expect(() => changelogSection(CHANGELOG, '1.1')).toThrow(/not a release version/);
    expect(() => changelogSection(CHANGELOG.replace('[1.1.0]', '[1x1x0]'), '1.1.0')).toThrow(/no section for 1.1.0/);
    expect(() => changelogSection(CHANGELOG, '0.10.0')).toThrow(/no section for 0.10.0/);
  });

  it('refuses a missing section, an empty one and a heading without a release date', () => {
    expect(() => changelogSection(CHANGELOG, '2.0.0')).toThrow('CHANGELOG has no section for 2.0.0');
    expect(() => changelogSection('## [1.0.0] - 2025-01-01\n\n## [0.9.0] - 2024-01-01\n- x\n', '1.0.0')).toThrow('section for 1.0.0 is empty');
    expect(() => changelogSection('## [1.0.0] - YYYY-MM-DD\n- x\n', '1.0.0')).toThrow(/has no release date/);
    expect(() => changelogSection('## [1.0.0]\n- x\n', '1.0.0')).toThrow(/has no release date/);
    expect(changelogSection('## [1.0.0]\n- x\n', '1.0.0', { requireDate: false })).toBe('- x');
  });

  it('handles CRLF files', () => {
    expect(changelogSection(CHANGELOG.replace(/\n/g, '\r\n'), '1.1.0')).toBe('### Changed\n- one-one');
  });

  it('as a command: prints the notes, or fails with the reason', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'changelog-'));
    fs.writeFileSync(path.join(dir, 'CHANGELOG.md'), CHANGELOG);
    const run = (v: string) => spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'changelog-section.js'), v, path.join(dir, 'CHANGELOG.md')], { encoding: 'utf8' });
    expect(run('v1.1.0')).toMatchObject({ status: 0, stdout: '### Changed\n- one-one\n' });
    const missing = run('v3.0.0');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('CHANGELOG has no section for 3.0.0');
  });
});

describe('the repository CHANGELOG.md', () => {
  const text = fs.readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8');

  it('follows Keep a Changelog with an Unreleased section first and a 1.0.0 section', () => {
    const headings = text.split('\n').filter((l) => l.startsWith('## '));
    expect(headings[0]).toBe('## [Unreleased]');
    expect(headings).toContainEqual(expect.stringMatching(/^## \[1\.0\.0\] - /));
    expect(changelogSection(text, '1.0.0', { requireDate: false })).toMatch(/### Added/);
    expect(text).toMatch(/^\[1\.0\.0\]: https:\/\/github\.com\/OWNER\/model-deploy-actions\/releases\/tag\/v1\.0\.0$/m);
  });
});

describe('releasePlan', () => {
  const tags = ['v1.0.0', 'v1.1.0', 'v1', 'v2.0.0', 'v2', 'v2.1.0-rc.1', 'not-a-release'];

  it('the newest release moves its major tag and is the latest everywhere', () => {
    expect(releasePlan('refs/tags/v2.1.0', [...tags, 'v2.1.0'], '2.1.0')).toEqual({
      version: '2.1.0',
      tag: 'v2.1.0',
      major: 'v2',
      prerelease: false,
      latest: true,
      'move-major': true,
      'npm-tag': 'latest',
    });
  });

  it('a fix to an older major moves that major only, and is not npm\'s latest', () => {
    expect(releasePlan('v1.1.1', [...tags, 'v1.1.1'], '1.1.1')).toMatchObject({ major: 'v1', latest: false, 'move-major': true, 'npm-tag': 'maintenance-1' });
  });

  it('a release older than its major\'s newest moves nothing', () => {
    expect(releasePlan('v1.0.1', [...tags, 'v1.0.1'], '1.0.1')).toMatchObject({ latest: false, 'move-major': false });
  });

  it('a pre-release moves nothing and goes to npm\'s next', () => {
    expect(releasePlan('v2.2.0-rc.1', tags, '2.2.0-rc.1')).toMatchObject({ prerelease: true, latest: false, 'move-major': false, 'npm-tag': 'next' });
  });

  it('the first release of a repository is the latest', () => {
    expect(releasePlan('v1.0.0', ['v1.0.0'], '1.0.0')).toMatchObject({ latest: true, 'move-major': true, major: 'v1' });
  });

  it('refuses a version package.json does not carry (the CLI would print another one)', () => {
    expect(() => releasePlan('v1.0.0', [], '0.1.0')).toThrow(/package.json has version 0.1.0, the release is 1.0.0/);
    expect(() => releasePlan('v1', [], '1.0.0')).toThrow(/not a release version/);
  });
});
