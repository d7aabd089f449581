import * as fs from 'fs';
import * as path from 'path';
import { parseTemplate, templatesDir } from '../../../src/deploy/template-loader';
import { resourceSpec, statements, validateTemplate } from '../../support/cloudformation/resource-spec';
import { readTemplate } from '../../support/cloudformation/template';

const dir = path.join(__dirname, '..', '..', '..', 'templates', 'stacks');
const PARAMETER_PROPERTIES = new Set([
  'Type', 'Default', 'Description', 'AllowedValues', 'AllowedPattern', 'ConstraintDescription',
  'MaxLength', 'MinLength', 'MaxValue', 'MinValue', 'NoEcho',
]);
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('template loader', () => {
  it('turns short-form tags into the JSON CloudFormation reads', () => {
    const t = parseTemplate(
      [
        'A: !Ref X',
        'B: !GetAtt Res.Endpoint.Address',
        'C: !Sub "${AWS::Region}-x"',
        'D: !If [Cond, !Ref Y, !Ref AWS::NoValue]',
        'E: !Join [",", [!Select [0, !Split [",", !Ref L]], !GetAZs ""]]',
        'F: !Not [!Equals [!Ref X, ""]]',
        'G: !And [!Condition C1, !Or [!Condition C2, !Condition C3]]',
        'H: !FindInMap [M, !Ref AWS::Region, k]',
        'I: !ImportValue other-stack-output',
        'J: !Base64 { "Fn::Sub": "echo ${X}" }',
        'K: !Sub ["${A}", { A: !Ref X }]',
      ].join('\n'),
      'inline.yaml',
    );
    expect(t).toEqual({
      A: { Ref: 'X' },
      B: { 'Fn::GetAtt': ['Res', 'Endpoint.Address'] },
      C: { 'Fn::Sub': '${AWS::Region}-x' },
      D: { 'Fn::If': ['Cond', { Ref: 'Y' }, { Ref: 'AWS::NoValue' }] },
      E: { 'Fn::Join': [',', [{ 'Fn::Select': [0, { 'Fn::Split': [',', { Ref: 'L' }] }] }, { 'Fn::GetAZs': '' }]] },
      F: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'X' }, ''] }] },
      G: { 'Fn::And': [{ Condition: 'C1' }, { 'Fn::Or': [{ Condition: 'C2' }, { Condition: 'C3' }] }] },
      H: { 'Fn::FindInMap': ['M', { Ref: 'AWS::Region' }, 'k'] },
      I: { 'Fn::ImportValue': 'other-stack-output' },
      J: { 'Fn::Base64': { 'Fn::Sub': 'echo ${X}' } },
      K: { 'Fn::Sub': ['${A}', { A: { Ref: 'X' } }] },
    });
  });

  it('names file and line for invalid YAML and unknown tags', () => {
    expect(() => parseTemplate('a: 1\nb: !Reff X\n', 't.yaml')).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/Unresolved tag: !Reff/), location: { file: 't.yaml', line: 2, column: 4 } }),
    );
    expect(() => parseTemplate('a: [1\n', 't.yaml')).toThrow(/invalid template YAML/);
  });

  it('finds templates/ by walking up from a bundle folder', () => {
    expect(templatesDir(path.join(__dirname, '..', '..', '..', 'dist', 'deploy-endpoint', 'flow'))).toBe(dir);
  });
});

describe('the spec checker itself', () => {
  it('catches an unknown property, a missing required one and dangling references', () => {
    const problems = validateTemplate({
      Resources: {
        Topic: { Type: 'AWS::SNS::Topic', Properties: { Nonsense: 1, DisplayName: { Ref: 'Nope' } } },
        Policy: { Type: 'AWS::SNS::TopicPolicy', Properties: { Topics: [{ 'Fn::GetAtt': ['Topic', 'Bogus'] }] } },
        Bad: { Type: 'AWS::SageMaker::Nothing' },
      },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'Topic.Nonsense: no such property',
        'Policy.PolicyDocument: required property missing',
        'Bad: unknown resource type AWS::SageMaker::Nothing',
        expect.stringMatching(/Ref to unknown Nope/),
        expect.stringMatching(/has no attribute Bogus/),
      ]),
    );
  });
});

describe.each(files)('templates/stacks/%s', (file) => {
  const t = readTemplate(`templates/stacks/${file}`);

  it('uses only resource types and properties that exist, with the required ones present', () => {
    expect(validateTemplate(t)).toEqual([]);
  });

  it('has no Action "*" and no full-access managed policy', () => {
    for (const { at, statement } of statements(t)) {
      const actions = [statement.Action ?? statement.NotAction].flat();
      expect({ at, star: actions.includes('*') }).toEqual({ at, star: false });
    }
    const text = JSON.stringify(t);
    expect(text).not.toMatch(/FullAccess/);
    expect(text).not.toMatch(/AdministratorAccess/);
  });

  // Issue 20 (High 2): the bootstrap owns every role, policy and SSM document; a stack only names them.
  it('creates no IAM role, instance profile, policy or SSM document', () => {
    const types = Object.values(t.Resources).map((r: any) => r.Type as string);
    expect(types.filter((x) => /^AWS::IAM::|^AWS::SSM::Document$/.test(x))).toEqual([]);
  });

  it('gives no fixed name to what an update replaces (Model, EndpointConfig)', () => {
    for (const r of Object.values(t.Resources) as any[]) {
      if (r.Type === 'AWS::SageMaker::Model') expect(r.Properties.ModelName).toBeUndefined();
      if (r.Type === 'AWS::SageMaker::EndpointConfig') expect(r.Properties.EndpointConfigName).toBeUndefined();
    }
  });

  it('outputs what the deploy flow reads', () => {
    expect(Object.keys(t.Outputs)).toEqual(expect.arrayContaining(['EndpointName', 'EndpointArn', 'EndpointUrl']));
    if (file.startsWith('sagemaker')) expect(Object.keys(t.Outputs)).toContain('EndpointConfigName');
  });

  // An unquoted flow-mapping Description with a comma splits into an extra key; CloudFormation
  // then rejects the whole template ("Invalid template parameter property").
  it('gives each parameter only properties CloudFormation accepts', () => {
    for (const [name, p] of Object.entries(t.Parameters) as [string, any][]) {
      const extra = Object.keys(p).filter((k) => !PARAMETER_PROPERTIES.has(k));
      expect({ name, extra }).toEqual({ name, extra: [] });
    }
  });

  it('declares a Type for every parameter and uses every parameter', () => {
    const text = JSON.stringify({ ...t, Parameters: undefined });
    for (const [name, p] of Object.entries(t.Parameters) as [string, any][]) {
      expect({ name, type: typeof p.Type }).toEqual({ name, type: 'string' });
      expect({ name, used: text.includes(`"Ref":"${name}"`) || text.includes(`\${${name}}`) }).toEqual({ name, used: true });
    }
  });
});

it('the resource specification knows the types the templates rely on', () => {
  expect(resourceSpec('AWS::SageMaker::Endpoint')?.properties.DeploymentConfig).toBeDefined();
});
