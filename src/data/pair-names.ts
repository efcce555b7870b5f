/**
 * Matching noisy/clean pairs by file name, PolyU style (`<name><noisy_suffix>.<ext>` next to
 * `<name><clean_suffix>.<ext>`). Runtime-free: `listPairs` (folders, CLI) and the page's Fine-tune
 * panel (dropped files) pair the same way.
 */

/** One pair of names. */
export interface NamePair {
  name: string;
  noisy: string;
  clean: string;
}

/** What {@link pairByName} found: the pairs (sorted by name) and the noisy files without a clean partner. */
export interface NamePairing {
  pairs: NamePair[];
  unpaired: string[];
}

const stemOf = (file: string) => {
  const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
};

/**
 * Pairs files by their stems.
 * @param files file names or paths
 */
export function pairByName(files: readonly string[], noisySuffix: string, cleanSuffix: string): NamePairing {
  const byStem = new Map(files.map((f) => [stemOf(f), f]));
  const pairs: NamePair[] = [];
  const unpaired: string[] = [];
  for (const [stem, file] of byStem) {
    if (!stem.endsWith(noisySuffix)) continue;
    const name = stem.slice(0, -noisySuffix.length);
    const clean = byStem.get(name + cleanSuffix);
    if (clean) pairs.push({ name, noisy: file, clean });
    else unpaired.push(file);
  }
  return { pairs: pairs.sort((a, b) => a.name.localeCompare(b.name)), unpaired };
}
