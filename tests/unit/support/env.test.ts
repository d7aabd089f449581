/** tests/support/env.ts: what a test sets in process.env is put back exactly, unset variables included. */
import { setEnv, useEnv, withEnv } from '../../support/env';

const A = 'MODEL_DEPLOY_TEST_ENV_A';
const B = 'MODEL_DEPLOY_TEST_ENV_B';

describe('setEnv', () => {
  afterEach(() => {
    delete process.env[A];
    delete process.env[B];
  });

  it('sets and unsets, then restores a set variable\'s value and deletes one that was unset', () => {
    process.env[A] = 'before';
    const restore = setEnv({ [A]: undefined, [B]: 'during' });
    expect(process.env[A]).toBeUndefined();
    expect(process.env[B]).toBe('during');
    restore();
    expect(process.env[A]).toBe('before');
    expect(B in process.env).toBe(false);
  });

  it('withEnv restores when the function throws', async () => {
    await expect(withEnv({ [A]: 'during' }, async () => {
      expect(process.env[A]).toBe('during');
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(A in process.env).toBe(false);
  });
});

describe('useEnv', () => {
  const set = useEnv(() => ({ [A]: 'each' }));
  it('sets vars() before each test, and more from inside it', () => {
    expect(process.env[A]).toBe('each');
    set({ [A]: 'more', [B]: 'more' });
    expect(process.env[A]).toBe('more');
  });
  it('restored everything the test before set, latest first', () => {
    expect(process.env[A]).toBe('each');
    expect(B in process.env).toBe(false);
  });
});

describe('after useEnv\'s suite', () => {
  it('nothing is left', () => expect(A in process.env).toBe(false));
});
