/**
 * Chunks read in one turn of the event loop are timed at the turn's first reading: the work on the sockets
 * handled before a chunk in that turn is the client's, not a gap the server made. The clock here advances 1 ms per
 * reading, as a client busy with 64 other streams in the same wake-up would see it.
 */
import { turnClock } from '../../../src/benchmark/client-openai';

describe('turnClock', () => {
  it('gives every chunk of one turn the time of its first, and reads the clock again in the next turn', async () => {
    let t = 0;
    const arrived = turnClock(() => ++t);
    expect([arrived(), arrived(), arrived()]).toEqual([1, 1, 1]);
    await new Promise((resolve) => setImmediate(resolve));
    expect([arrived(), arrived()]).toEqual([2, 2]);
    expect(t).toBe(2);
  });
});
