/** "Did you mean" for enumerations: the nearest valid values by edit distance. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  // Two rows of the dynamic-programming table; `diag` is prev[j - 1], `left` is cur[j - 1].
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    let left = i;
    let diag = i - 1;
    prev.forEach((up, j) => {
      if (j === 0) return;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      left = Math.min(up + 1, left + 1, diag + cost);
      diag = up;
      cur.push(left);
    });
    prev = cur;
  }
  return prev[n] ?? m;
}

/** Up to `limit` candidates closest to value, nearest first (ties keep the candidates' order). */
export function nearest(value: string, candidates: readonly string[], limit = 3): string[] {
  const v = value.toLowerCase();
  return candidates
    .map((c, i) => ({ c, i, d: editDistance(v, c.toLowerCase()) }))
    .sort((x, y) => x.d - y.d || x.i - y.i)
    .slice(0, limit)
    .map((x) => x.c);
}

/**
 * Close enough to be a typo: at most 2 edits, or 40 % of the longer word (`chta` → `chat`, `ml.g5.xlarg` →
 * `ml.g5.xlarge`), so that an unrelated word (`jumpstart`, `value`) gets no suggestion, only the list.
 */
function isClose(value: string, candidate: string): boolean {
  const d = editDistance(value.toLowerCase(), candidate.toLowerCase());
  return d <= Math.max(2, Math.floor(Math.max(value.length, candidate.length) * 0.4));
}

export function didYouMean(value: string, candidates: readonly string[], limit = 3): string {
  const best = nearest(value, candidates, limit).filter((c) => isClose(value, c));
  if (best.length === 0) return '';
  return best.length === 1 ? `Did you mean "${best[0]}"?` : `Did you mean ${best.map((b) => `"${b}"`).join(', ')}?`;
}
