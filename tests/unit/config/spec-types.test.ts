/** The spec's types are generated from its JSON Schema (scripts/spec-types.js) and kept current. */
import * as fs from 'fs';
const { generateSpecTypes, SPEC_TYPES_FILE } = require('../../../scripts/spec-types') as { generateSpecTypes(o: { write: boolean }): boolean; SPEC_TYPES_FILE: string };

describe('spec-types.generated.ts', () => {
  it('is what the schema generates', () => {
    expect(generateSpecTypes({ write: false })).toBe(false);
  });

  it('makes a field with a schema default required, and one without optional', () => {
    const text = fs.readFileSync(SPEC_TYPES_FILE, 'utf8');
    expect(text).toMatch(/\n {2}ecrReplication: boolean;/);
    expect(text).toMatch(/\n {2}terminationProtection\?: boolean;/);
    expect(text).toContain("export type EngineName = 'vllm' | 'tgi' | 'lmi' | 'custom';");
  });
});
