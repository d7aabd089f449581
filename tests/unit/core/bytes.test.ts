import { formatBytes } from '../../../src/core/bytes';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [5 * 1024 ** 2, '5.0 MiB'],
    [150 * 1024 ** 3, '150 GiB'],
    [3 * 1024 ** 5, '3072 TiB'],
  ])('%d bytes -> %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});
