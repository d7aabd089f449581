/** One figure a benchmark reports; `npm run bench` prints them as a table. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** The target, in words ("< 200 ms", "<= 3 calls"). */
  target?: string;
  ok?: boolean;
}

export type Bench = () => Promise<BenchRow[]>;
