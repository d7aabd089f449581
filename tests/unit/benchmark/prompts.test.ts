/** Synthetic prompts of a given length, and prompts from a file in the repository. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { filePrompts, syntheticPrompt, syntheticPrompts } from '../../../src/benchmark/prompts';
import { DeployError } from '../../../src/core/errors';

describe('synthetic prompts', () => {
  it('have exactly the asked number of words, differ by request, and repeat deterministically', () => {
    for (const n of [1, 7, 512, 4096]) expect(syntheticPrompt(n, 3).split(' ')).toHaveLength(n);
    expect(syntheticPrompt(64, 1)).not.toBe(syntheticPrompt(64, 2));
    expect(syntheticPrompt(64, 1)).toBe(syntheticPrompt(64, 1));
    // Every word is a short common word (one BPE token in current tokenizers).
    expect(syntheticPrompt(2000, 5).split(' ').every((w) => /^[a-z]{1,9}$/.test(w))).toBe(true);
    const source = syntheticPrompts(32);
    expect(source.prompt(70)).toBe(source.prompt(6));
    expect(source.prompt(1).slice(0, 40)).not.toBe(source.prompt(2).slice(0, 40));
    expect(source.tokens(9)).toBe(32);
  });
});

describe('a prompts file', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'md-prompts-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads one prompt a line or JSON lines, in turn', () => {
    fs.mkdirSync(path.join(root, 'bench'));
    fs.writeFileSync(path.join(root, 'bench/p.jsonl'), '{"prompt": "Summarise this contract please"}\n\nplain line prompt\n');
    const p = filePrompts('bench/p.jsonl', root);
    expect([p.prompt(0), p.prompt(1), p.prompt(2)]).toEqual(['Summarise this contract please', 'plain line prompt', 'Summarise this contract please']);
    expect(p.tokens(0)).toBe(4);
  });

  it.each([
    ['../outside.txt', 'is outside the repository'],
    ['missing.txt', 'does not exist'],
  ])('%s: %s', (file, message) => {
    expect(() => filePrompts(file, root)).toThrow(message);
  });

  it('reports an empty file and a bad JSON line with its line number', () => {
    fs.writeFileSync(path.join(root, 'empty.txt'), '\n\n');
    expect(() => filePrompts('empty.txt', root)).toThrow('holds no prompts');
    fs.writeFileSync(path.join(root, 'bad.jsonl'), 'fine\n{"prompt": \n');
    let err: unknown;
    try {
      filePrompts('bad.jsonl', root);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeployError);
    expect((err as DeployError).location).toEqual({ file: 'bad.jsonl', line: 2 });
  });
});
