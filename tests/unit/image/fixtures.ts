import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSpec } from '../../../src/config/load';
import type { Deployment, Spec } from '../../../src/config/types';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

export const BASE_SPEC = `
version: 1
project: acme
environments:
  dev:
    account: "111111111111"
deployments:
  chat:
    model:
      huggingface:
        id: Qwen/Qwen2.5-7B-Instruct
        revision: a09a35458c702b33eeacc393d103063234e8bc28
    engine:
      name: vllm
      version: "0.8.5"
      args: ["--max-model-len", "8192"]
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    instanceCount: 1
    regions: [us-east-1]
`;

/** Writes a spec (and optional extra files) to a fresh folder and loads it. */
export function specIn(text: string, files: Record<string, string> = {}): { spec: Spec; dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-build-'));
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), content);
  }
  const file = path.join(dir, 'model-deploy.yml');
  fs.writeFileSync(file, text);
  return { spec: loadSpec(file, { displayPath: 'model-deploy.yml' }), dir, file };
}

export function deployment(text = BASE_SPEC, name = 'chat'): Deployment {
  return specIn(text).spec.deployments[name];
}

/** The base spec with the chat deployment's lines replaced or added. */
export function withChanges(replace: [string, string][]): string {
  let text = BASE_SPEC;
  for (const [from, to] of replace) {
    if (!text.includes(from)) throw new Error(`fixture has no ${from}`);
    text = text.replace(from, to);
  }
  return text;
}
