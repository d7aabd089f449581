import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { ACTIONS, ACTION_MODULES, rootDefinition } from '../../../src/actions';
import { ACTION_NAMES } from '../../../src/actions/names';
import { generatedFiles } from '../../../scripts/gen-actions';

const ROOT = path.resolve(__dirname, '../../..');

describe('action.yml files', () => {
  it('are generated from the definitions and committed as generated (run npm run gen:actions)', () => {
    for (const [rel, content] of Object.entries(generatedFiles())) {
      expect({ rel, content: fs.readFileSync(path.join(ROOT, rel), 'utf8') }).toEqual({ rel, content });
    }
  });

  it.each(ACTIONS.map((a) => a.name))('%s runs its own bundle on node24', (name) => {
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, 'actions', name, 'action.yml'), 'utf8'));
    expect(doc.runs).toEqual({ using: 'node24', main: `../../dist/${name}/index.js` });
    expect(fs.existsSync(path.join(ROOT, 'dist', name, 'index.js'))).toBe(true);
    for (const input of ['config']) expect(doc.inputs[input]).toBeDefined();
    for (const [, v] of Object.entries(doc.inputs as Record<string, { description: string }>)) expect(v.description.length).toBeGreaterThan(10);
    for (const [, v] of Object.entries(doc.outputs as Record<string, { description: string }>)) expect(v.description.length).toBeGreaterThan(5);
  });

  it('the root dispatcher knows every action by name, in order', () => {
    expect(ACTION_MODULES.map((m) => m.definition.name)).toEqual([...ACTION_NAMES]);
  });

  it('every action except promote-model takes config, deployment and environment; promote-model its own environments', () => {
    for (const a of ACTIONS) {
      expect(Object.keys(a.inputs)).toEqual(expect.arrayContaining(['config', 'deployment']));
      if (a.name === 'promote-model') expect(Object.keys(a.inputs)).toEqual(expect.arrayContaining(['source-environment', 'target-environment']));
      else expect(Object.keys(a.inputs)).toContain('environment');
    }
  });
});

describe('the root action stays in step with the five actions', () => {
  const root = YAML.parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8'));

  it('offers every input and output of every action, none required but command', () => {
    for (const a of ACTIONS) {
      for (const name of Object.keys(a.inputs)) expect(root.inputs[name]).toBeDefined();
      for (const name of Object.keys(a.outputs)) expect(root.outputs[name]).toBeDefined();
    }
    const required = Object.entries(root.inputs as Record<string, { required: boolean }>).filter(([, v]) => v.required).map(([k]) => k);
    expect(required).toEqual(['command']);
    expect(root.runs).toEqual({ using: 'node24', main: 'dist/main/index.js' });
  });

  it('never passes a default that is wrong for one of the actions', () => {
    const def = rootDefinition();
    for (const a of ACTIONS) {
      for (const [name, input] of Object.entries(a.inputs)) {
        const rootDefault = def.inputs[name]?.default;
        if (rootDefault !== undefined) expect({ action: a.name, name, d: input.default }).toEqual({ action: a.name, name, d: rootDefault });
      }
    }
  });

  it('has no input named twice with different meanings of type', () => {
    const def = rootDefinition();
    for (const a of ACTIONS) {
      for (const [name, input] of Object.entries(a.inputs)) {
        const r = def.inputs[name];
        if (r?.type !== undefined) expect(r.type).toBe(input.type);
      }
    }
  });
});

describe('rotate-key endpoint-url', () => {
  // Both keys are sent to this URL: plain http would put them on the wire.
  it('takes https only', () => {
    const { definition } = require('../../../src/actions/rotate-key') as typeof import('../../../src/actions/rotate-key');
    const { parseInputs, mapInputSource } = require('../../../src/core/inputs') as typeof import('../../../src/core/inputs');
    const parse = (url: string) => parseInputs(definition, mapInputSource({ config: 'model-deploy.yml', 'endpoint-url': url }));
    expect(parse('https://chat.example.com/v1')['endpoint-url']).toBe('https://chat.example.com/v1');
    expect(() => parse('http://chat.example.com/v1')).toThrow(/endpoint-url/);
  });
});
