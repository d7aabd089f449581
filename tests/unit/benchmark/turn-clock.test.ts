/**
 * Chunks read in one turn of the event loop are timed at the turn's first reading: the work on the sockets
 * handled before a chunk in that turn is the client's, not a gap the server made. The clock here advances 0.5 ms
 * per reading, as a client busy with other streams in the same wake-up would see it.
 */
import { turnClock } from '../../../src/benchmark/client-openai';

describe('turnClock', () => {
  it('gives every chunk of one turn the time of its first, and reads afresh in the next turn', async () => {
    let t = 0;
    const arrived = turnClock(() => (t += 0.5));
    expect([arrived(), arrived(), arrived()]).toEqual([0.5, 0.5, 0.5]);
    await new Promise((resolve) => setImmediate(resolve));
    expect([arrived(), arrived()]).toEqual([2, 2]);
  });

  it('starts afresh within a turn that runs longer than its bound', () => {
    let t = 0;
    const arrived = turnClock(() => (t += 0.5), 1);
    // 0.5 kept for 1.0 and 1.5; 2.0 is past the bound and starts afresh.
    expect([arrived(), arrived(), arrived(), arrived(), arrived()]).toEqual([0.5, 0.5, 0.5, 2, 2]);
  });
});
