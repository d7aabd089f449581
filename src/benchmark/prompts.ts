/**
 * Prompts for a run. Synthetic by default, nothing downloaded: a prompt of N tokens is N words drawn
 * from a list of short, common English words. Such words are one token each in the BPE tokenizers of
 * current models (Llama 3, Qwen 2.5, Mistral, GPT-4o), give or take the leading space, so the prompt is
 * N tokens within a few percent, plus the chat template's own tokens (a dozen or so). The server's
 * usage.prompt_tokens, when it sends it, is what the metrics count. Each request starts at a different
 * word so a prefix cache cannot serve one request from another.
 *
 * A prompts file (in the repository) holds one prompt a line, or JSON lines with a "prompt" field.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DeployError } from '../core/errors';

const WORDS = (
  'the of and to in is it you that he was for on are as with his they at be this have from or one had by word but not ' +
  'what all were we when your can said there use an each which she do how their if will up other about out many then them ' +
  'these so some her would make like him into time has look two more write go see number no way could people my than first ' +
  'water been call who oil its now find long down day did get come made may part over new sound take only little work know ' +
  'place year live me back give most very after thing our just name good sentence man think say great where help through much ' +
  'before line right too mean old any same tell boy follow came want show also around form three small set put end does another ' +
  'well large must big even such because turn here why ask went men read need land different home us move try kind hand picture ' +
  'again change off play spell air away animal house point page letter mother answer found study still learn should world high'
).split(' ');

/** A deterministic prompt of `tokens` words, different for each `index`. */
export function syntheticPrompt(tokens: number, index: number): string {
  const n = WORDS.length;
  // A stride coprime with the vocabulary size walks every word before repeating.
  const stride = 37;
  const out: string[] = [];
  let k = (index * 7919) % n;
  for (let i = 0; i < tokens; i++) {
    out.push(WORDS[k] ?? 'the');
    k = (k + stride + (i % 3 === 0 ? index % 5 : 0)) % n;
  }
  return out.join(' ');
}

export interface PromptSource {
  /** The prompt of request `index` (a file's prompts are used in turn). */
  prompt(index: number): string;
  /** Its length in tokens: exact for synthetic prompts, words (the same approximation) for a file's. */
  tokens(index: number): number;
  readonly kind: 'synthetic' | 'file';
}

export function syntheticPrompts(tokens: number): PromptSource {
  const cache = new Map<number, string>();
  return {
    kind: 'synthetic',
    tokens: () => tokens,
    // 64 distinct prompts in turn: enough to defeat a prefix cache without building a million strings.
    prompt(index) {
      const k = index % 64;
      let p = cache.get(k);
      if (p === undefined) {
        p = syntheticPrompt(tokens, k);
        cache.set(k, p);
      }
      return p;
    },
  };
}

const MAX_FILE_BYTES = 16 * 1024 * 1024;
const MAX_PROMPTS = 100_000;

/** Reads a prompts file inside `root` (the repository). */
export function filePrompts(file: string, root: string): PromptSource {
  const full = path.resolve(root, file);
  const rel = path.relative(path.resolve(root), full);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new DeployError(`workload.promptsFile "${file}" is outside the repository`, { hint: 'Give a path relative to the repository root.' });
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(full);
  } catch {
    throw new DeployError(`workload.promptsFile "${file}" does not exist`, { hint: `Looked for ${full}. Commit the file, or leave promptsFile out for synthetic prompts.` });
  }
  if (!stat.isFile() || stat.size > MAX_FILE_BYTES) {
    throw new DeployError(`workload.promptsFile "${file}" is not a file of at most 16 MiB`, { hint: 'One prompt a line, or JSON lines with a "prompt" field.' });
  }
  const prompts: string[] = [];
  const lines = fs.readFileSync(full, 'utf8').split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    if (prompts.length >= MAX_PROMPTS) break;
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('{')) {
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch {
        throw new DeployError(`${file}:${i + 1}: not valid JSON`, { location: { file, line: i + 1 }, hint: 'JSON lines look like {"prompt": "..."}.' });
      }
      const p = (obj as { prompt?: unknown }).prompt;
      if (typeof p !== 'string' || !p) throw new DeployError(`${file}:${i + 1}: no "prompt" string`, { location: { file, line: i + 1 }, hint: 'JSON lines look like {"prompt": "..."}.' });
      prompts.push(p);
    } else prompts.push(line);
  }
  if (prompts.length === 0) throw new DeployError(`workload.promptsFile "${file}" holds no prompts`, { hint: 'One prompt a line, or JSON lines with a "prompt" field.' });
  const entries = prompts.map((text) => ({ text, words: text.split(/\s+/).filter(Boolean).length }));
  const at = (index: number) => entries[index % entries.length] ?? { text: '', words: 0 };
  return { kind: 'file', prompt: (index) => at(index).text, tokens: (index) => at(index).words };
}
