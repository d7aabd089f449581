/** A poll clock that never sleeps for real but advances time by each requested delay. */
export function fakeClock(start = Date.UTC(2025, 0, 1)) {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    random: () => 1,
  };
}
