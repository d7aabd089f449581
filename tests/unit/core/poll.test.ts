import { explainAwsError } from '../../../src/core/errors';
import { jittered, poll, withRetries, isThrottling } from '../../../src/core/poll';

function throttle(name = 'ThrottlingException') {
  return Object.assign(new Error('Rate exceeded'), { name });
}

describe('poll', () => {
  it('backs off while nothing changes and resets when it does', async () => {
    const delays: number[] = [];
    const values = ['A', 'A', 'A', 'B', 'B', 'DONE'];
    let i = 0;
    const r = await poll({
      what: 'test',
      check: async () => values[i++],
      done: (v) => v === 'DONE',
      progressed: (v, prev) => v !== prev,
      initialDelayMs: 100,
      maxDelayMs: 1000,
      factor: 2,
      random: () => 1, // no jitter: the nominal delay
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    expect(r.value).toBe('DONE');
    expect(r.checks).toBe(6);
    // A (first look): 200; A: 400; A: 800; B (changed): 100; B: 200.
    expect(delays).toEqual([100, 200, 400, 100, 200]);
  });

  it('treats throttling as back-pressure, not failure', async () => {
    const delays: number[] = [];
    let calls = 0;
    const r = await poll({
      what: 'test',
      check: async () => {
        calls++;
        if (calls <= 2) throw throttle();
        return 'ok';
      },
      done: () => true,
      initialDelayMs: 100,
      maxDelayMs: 1000,
      random: () => 1,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    expect(r).toEqual({ value: 'ok', checks: 3, throttled: 2 });
    expect(delays).toEqual([200, 400]);
  });

  it('fails at once on other errors', async () => {
    await expect(poll({ what: 'x', check: async () => Promise.reject(new Error('boom')), done: () => false, sleep: async () => {} })).rejects.toThrow('boom');
  });

  it('stops at the deadline with a message saying what it waited for', async () => {
    let now = 0;
    await expect(
      poll({
        what: 'stack acme to finish',
        check: async () => 'busy',
        done: () => false,
        timeoutMs: 60_000,
        now: () => now,
        sleep: async (ms) => {
          now += ms;
        },
      }),
    ).rejects.toThrow('Timed out after 1 minutes waiting for stack acme to finish.');
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const p = poll({ what: 'x', check: async () => 'busy', done: () => false, initialDelayMs: 50, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled by test')), 20);
    await expect(p).rejects.toThrow('cancelled by test');
  });
});

describe('retries and jitter', () => {
  it('keeps delays between half and all of the nominal value', () => {
    expect(jittered(1000, () => 0)).toBe(500);
    expect(jittered(1000, () => 1)).toBe(1000);
  });

  it('retries throttled calls and gives up after the attempts', async () => {
    let n = 0;
    await expect(withRetries(async () => { n++; throw throttle('TooManyRequestsException'); }, { attempts: 3, sleep: async () => {} })).rejects.toThrow('Rate exceeded');
    expect(n).toBe(3);
    expect(await withRetries(async () => 'fine', { sleep: async () => {} })).toBe('fine');
  });

  it('recognises throttling by name, message or status', () => {
    expect(isThrottling(throttle('Throttling'))).toBe(true);
    expect(isThrottling(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 429 } }))).toBe(true);
    expect(isThrottling(new Error('AccessDenied'))).toBe(false);
  });

  it('recognises throttling behind explainAwsError (core/stack.ts wraps what DescribeStacks throws)', () => {
    const raw = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    const wrapped = explainAwsError(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }), 'Reading stack s');
    expect(isThrottling(explainAwsError(raw, 'Reading stack s'))).toBe(true);
    expect(isThrottling(wrapped)).toBe(true);
    expect(isThrottling(explainAwsError(new Error('denied'), 'Reading stack s'))).toBe(false);
  });
});
