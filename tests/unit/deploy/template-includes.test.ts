/**
 * One copy of code two templates run: a "# model-deploy:include NAME.sh" line in a !Sub script becomes the
 * shell file, escaped for !Sub (the shell's ${x} written ${!x}, so CloudFormation leaves it to the shell).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { inlineIncludes } from '../../../src/deploy/template-loader';
import { DeployError } from '../../../src/core/errors';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-includes-'));
  fs.writeFileSync(path.join(dir, 'f.sh'), 'f() {\n  local x="$1"\n\n  echo "${x%/*}"\n}\n');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('template includes', () => {
  it("replaces the line in a !Sub script, at the line's indentation, escaped for !Sub", () => {
    const t = { UserData: { 'Fn::Base64': { 'Fn::Sub': "#!/bin/bash\n    # model-deploy:include f.sh\nf '${Url}'\n" } } };
    expect(inlineIncludes(t, dir, 't.yaml')).toEqual({ UserData: { 'Fn::Base64': { 'Fn::Sub': "#!/bin/bash\n    f() {\n      local x=\"$1\"\n\n      echo \"${!x%/*}\"\n    }\nf '${Url}'\n" } } });
  });

  it("in Fn::Sub's long form only the script is a !Sub string; its variables are left alone", () => {
    const t = { 'Fn::Sub': ['# model-deploy:include f.sh\nf ${V}', { V: '# model-deploy:include f.sh' }] };
    expect(() => inlineIncludes(t, dir, 't.yaml')).toThrow(/outside a !Sub script/);
    const ok = { 'Fn::Sub': ['# model-deploy:include f.sh', { V: 'x' }] };
    expect((inlineIncludes(ok, dir, 't.yaml') as { 'Fn::Sub': [string, object] })['Fn::Sub'][0]).toContain('echo "${!x%/*}"');
  });

  it('refuses an include outside a !Sub script (it would reach the host unescaped)', () => {
    expect(() => inlineIncludes({ Command: ['# model-deploy:include f.sh'] }, dir, 't.yaml')).toThrow(DeployError);
    expect(() => inlineIncludes({ Command: ['# model-deploy:include f.sh'] }, dir, 't.yaml')).toThrow(/t\.yaml: "# model-deploy:include f\.sh" outside a !Sub script/);
  });

  it('refuses an include of a file templates/stacks does not have', () => {
    expect(() => inlineIncludes({ 'Fn::Sub': '# model-deploy:include gone.sh' }, dir, 't.yaml')).toThrow(/t\.yaml: includes gone\.sh, which templates\/stacks does not have/);
  });

  it('leaves a template without includes as it is', () => {
    const t = { Resources: { A: { Properties: { Script: { 'Fn::Sub': 'echo ${!x} # not an include' }, N: 3, L: [true, null] } } } };
    expect(inlineIncludes(t, dir, 't.yaml')).toEqual(t);
  });
});
