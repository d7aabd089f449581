import { decimalString, roundTo } from '../../../src/cost/money';

describe('roundTo and decimalString: the fast path gives the decimal-representation rounding', () => {
  const reference = (value: number, digits: number) => {
    const scale = 10 ** digits;
    const r = Math.round(Number((Math.abs(value) * scale).toPrecision(15))) / scale;
    return value < 0 ? -r : r;
  };
  it('agrees on 200,000 values: random, halves, binary-noise halves, large and negative', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const values: number[] = [1.005, 2.675, 1.255, 0.125, 10.235, 1e9 + 0.005, 123456789.125, -1.005, -0.5, 0.5];
    for (let i = 0; i < 100_000; i++) values.push((random() - 0.3) * 10 ** Math.floor(random() * 10));
    for (let i = 0; i < 100_000; i++) values.push(Math.floor(random() * 1e6) / 1000 + 0.0005);
    for (const v of values) for (const digits of [0, 2, 10]) if (roundTo(v, digits) !== reference(v, digits)) throw new Error(`roundTo(${v}, ${digits}) = ${roundTo(v, digits)}, expected ${reference(v, digits)}`);
    expect(decimalString(1200)).toBe('1200');
    expect(decimalString(-0)).toBe('0');
    expect(decimalString(537.5720000000001)).toBe('537.572');
  });
});
