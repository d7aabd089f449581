import { ActionDefinition, envInputSource, mapInputSource, parseInputs } from '../../../src/core/inputs';
import { memoryReporter } from '../../../src/core/log';

const def = {
  name: 'demo',
  title: 'demo',
  description: 'demo',
  inputs: {
    config: { description: 'spec', default: 'model-deploy.yml' },
    target: { description: 'where it goes', required: true },
    mode: { description: 'how', type: 'choice', choices: ['a', 'b'], default: 'a' },
    wait: { description: 'wait or not', type: 'boolean', default: 'true' },
    minutes: { description: 'how long', type: 'integer', min: 1, max: 60 },
    name: { description: 'a name', pattern: '[a-z]+', valid: 'lower-case letters' },
    token: { description: 'a token', secret: true, default: '${{ github.token }}' },
    one: { description: 'one', type: 'boolean', conflicts: 'other' },
    other: { description: 'other', type: 'boolean' },
  },
  outputs: {},
} as const satisfies ActionDefinition;

describe('parseInputs', () => {
  it('applies defaults, parses types and masks secrets at once', () => {
    const reporter = memoryReporter();
    const inputs = parseInputs(def, mapInputSource({ target: 'prod', minutes: '15', token: 'ghs_secret', wait: 'False' }), reporter);
    // The types come from the definition: these assignments would not compile with the wrong kind.
    const config: string = inputs.config;
    const mode: 'a' | 'b' = inputs.mode;
    const wait: boolean = inputs.wait;
    const minutes: number | undefined = inputs.minutes;
    expect({ config, mode, wait, minutes }).toEqual({ config: 'model-deploy.yml', mode: 'a', wait: false, minutes: 15 });
    expect(inputs.one).toBe(false);
    expect(reporter.captured.secrets).toEqual(['ghs_secret']);
  });

  it('reads the runner variables as @actions/core does', () => {
    const inputs = parseInputs(def, envInputSource({ INPUT_TARGET: ' dev ', INPUT_MODE: 'b' }));
    expect(inputs.target).toBe('dev');
    expect(inputs.mode).toBe('b');
    // An expression default is the runner's business, never a literal value.
    expect(inputs.token).toBeUndefined();
  });

  it('names a missing required input and says what it is for', () => {
    expect(() => parseInputs(def, mapInputSource({}))).toThrow('missing required input: `target`');
  });

  it.each([
    ['mode', 'c', /input `mode` is "c", which is not valid: it must be one of a, b/],
    ['wait', 'yes', /must be true or false/],
    ['minutes', '1.5', /must be a whole number from 1 to 60/],
    ['minutes', '0', /must be a whole number from 1 to 60/],
    ['minutes', '61', /must be a whole number from 1 to 60/],
    ['name', 'Abc', /input `name` is "Abc", which is not valid: it must be lower-case letters/],
  ])('rejects %s=%s', (name, value, message) => {
    expect(() => parseInputs(def, mapInputSource({ target: 'x', [name]: value }))).toThrow(message);
  });

  it('refuses two inputs that exclude each other', () => {
    expect(() => parseInputs(def, mapInputSource({ target: 'x', one: 'true', other: 'true' }))).toThrow('inputs `one` and `other` are both true: choose one');
    expect(parseInputs(def, mapInputSource({ target: 'x', one: 'true' })).one).toBe(true);
  });

  it('never echoes a secret input in an error', () => {
    const secretChoice = { ...def, inputs: { ...def.inputs, token: { description: 't', secret: true, type: 'integer' } } } as const satisfies ActionDefinition;
    expect(() => parseInputs(secretChoice, mapInputSource({ target: 'x', token: 'hunter2' }))).toThrow(/input `token` is \*\*\*/);
  });
});
