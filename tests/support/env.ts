/**
 * process.env for a test, one way: set what it needs, put back exactly what was there after (a variable that was
 * unset is deleted again, not left as the string "undefined"). A value of undefined unsets the variable.
 */
export type EnvVars = Record<string, string | undefined>;

function apply(vars: EnvVars): void {
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

/** Sets (or unsets) the variables; returns the function that restores what they were before. */
export function setEnv(vars: EnvVars): () => void {
  const before = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  apply(vars);
  return () => apply(before);
}

/** Runs `fn` with the variables set, restored after it whatever it does. */
export async function withEnv<T>(vars: EnvVars, fn: () => Promise<T>): Promise<T> {
  const restore = setEnv(vars);
  try {
    return await fn();
  } finally {
    restore();
  }
}

/**
 * The jest hook form: `vars()` (if given) is set before each test, or before all with scope 'all'; the returned
 * `set` sets more from inside a test or hook. Everything set is restored after each test (after all), latest first.
 */
export function useEnv(vars?: () => EnvVars, scope: 'each' | 'all' = 'each'): (more: EnvVars) => void {
  const restores: (() => void)[] = [];
  const set = (more: EnvVars) => {
    restores.push(setEnv(more));
  };
  if (vars) (scope === 'each' ? beforeEach : beforeAll)(() => set(vars()));
  (scope === 'each' ? afterEach : afterAll)(() => {
    for (let restore = restores.pop(); restore; restore = restores.pop()) restore();
  });
  return set;
}
