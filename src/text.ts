/** Small text helpers for messages: edit distance and "did you mean" suggestions. */

/** Optimal-string-alignment edit distance (insert, delete, substitute, swap adjacent), case-sensitive. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => {
    const row = new Array<number>(n + 1).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= n; j++) d[0][j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[m][n];
}

/**
 * The allowed word closest to `word`, if it is close enough to be a plausible typo
 * (distance <= max(1, longer length / 3), compared case-insensitively).
 */
export function suggestClosest(word: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const cand of allowed) {
    const dist = editDistance(word.toLowerCase(), cand.toLowerCase());
    const limit = Math.max(1, Math.floor(Math.max(word.length, cand.length) / 3));
    if (dist <= limit && dist < bestD) {
      best = cand;
      bestD = dist;
    }
  }
  return best;
}
