/** destroy.yml offers delete-logs and hands it to both deploy-endpoint steps (issue 16.7). */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '..', '..', '..');
type Json = Record<string, any>;
const doc = parse(fs.readFileSync(path.join(ROOT, '.github', 'workflows', 'destroy.yml'), 'utf8')) as Json;
const action = parse(fs.readFileSync(path.join(ROOT, 'actions', 'deploy-endpoint', 'action.yml'), 'utf8')) as Json;

describe('destroy.yml: delete-logs', () => {
  it.each(['workflow_call', 'workflow_dispatch'])('%s takes delete-logs, a boolean that defaults to keeping the logs', (trigger) => {
    expect(doc.on[trigger].inputs['delete-logs']).toMatchObject({ type: 'boolean', default: false });
  });

  it('passes it to the preview and to the destroy, as an input deploy-endpoint declares', () => {
    const steps = (doc.jobs.destroy.steps as Json[]).filter((s) => /deploy-endpoint$/.test(s.uses ?? ''));
    expect(steps.map((s) => s.with.mode)).toEqual(['destroy-preview', 'destroy']);
    for (const s of steps) expect(s.with['delete-logs']).toBe('${{ inputs.delete-logs }}');
    expect(action.inputs['delete-logs']).toMatchObject({ default: 'false' });
  });
});
