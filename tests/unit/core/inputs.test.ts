import { Inputs, envInputSource, mapInputSource } from '../../../src/core/inputs';
import { memoryReporter } from '../../../src/core/log';
import type { ActionDefinition } from '../../../src/actions/definitions/types';

const def: ActionDefinition = {
  name: 'demo',
  title: 'demo',
  description: 'demo',
  inputs: {
    config: { description: 'spec', default: 'model-deploy.yml' },
    target: { description: 'where it goes', required: true },
    mode: { description: 'how', type: 'choice', choices: ['a', 'b'], default: 'a' },
    wait: { description: 'wait or not', type: 'boolean', default: 'true' },
    minutes: { description: 'how long', type: 'integer' },
    token: { description: 'a token', secret: true, default: '${{ github.token }}' },
  },
  outputs: {},
};

describe('Inputs', () => {
  it('applies defaults, parses types and masks secrets at once', () => {
    const reporter = memoryReporter();
    const inputs = new Inputs(def, mapInputSource({ target: 'prod', minutes: '15', token: 'ghs_secret', wait: 'False' }), reporter);
    expect(inputs.string('config')).toBe('model-deploy.yml');
    expect(inputs.optional('mode')).toBe('a');
    expect(inputs.bool('wait')).toBe(false);
    expect(inputs.number('minutes')).toBe(15);
    expect(reporter.captured.secrets).toEqual(['ghs_secret']);
  });

  it('reads the runner variables as @actions/core does', () => {
    const inputs = new Inputs(def, envInputSource({ INPUT_TARGET: ' dev ', 'INPUT_MODE': 'b' }));
    expect(inputs.string('target')).toBe('dev');
    expect(inputs.optional('mode')).toBe('b');
    // An expression default is the runner's business, never a literal value.
    expect(inputs.optional('token')).toBeUndefined();
  });

  it('names a missing required input and says what it is for', () => {
    expect(() => new Inputs(def, mapInputSource({}))).toThrow('missing required input: `target`');
  });

  it.each([
    ['mode', 'c', /input `mode` is "c", which is not valid: it must be one of a, b/],
    ['wait', 'yes', /must be true or false/],
    ['minutes', '1.5', /must be a whole number/],
  ])('rejects %s=%s', (name, value, message) => {
    expect(() => new Inputs(def, mapInputSource({ target: 'x', [name]: value }))).toThrow(message);
  });

  it('never echoes a secret input in an error', () => {
    const secretChoice: ActionDefinition = { ...def, inputs: { ...def.inputs, token: { description: 't', secret: true, type: 'integer' } } };
    expect(() => new Inputs(secretChoice, mapInputSource({ target: 'x', token: 'hunter2' }))).toThrow(/input `token` is \*\*\*/);
  });
});
