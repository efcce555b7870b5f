/** Pairing noisy/clean files by name (src/data/pair-names.ts), as `listPairs` and the page do it. */
import { pairByName } from '../../../src/data/pair-names';

describe('pairByName', () => {
  it('pairs <name>_real with <name>_mean across extensions and folders, sorted by name', () => {
    const r = pairByName(['d/b_real.png', 'd/b_mean.PNG', 'a_real.JPG', 'a_mean.jpg', 'c_mean.png', 'notes.txt'], '_real', '_mean');
    expect(r.pairs).toEqual([
      { name: 'a', noisy: 'a_real.JPG', clean: 'a_mean.jpg' },
      { name: 'b', noisy: 'd/b_real.png', clean: 'd/b_mean.PNG' },
    ]);
    expect(r.unpaired).toEqual([]);
  });

  it('reports noisy files without a clean partner, and takes any suffixes', () => {
    expect(pairByName(['x_noisy.pgm', 'y_noisy.pgm', 'y_clean.pgm'], '_noisy', '_clean')).toEqual({
      pairs: [{ name: 'y', noisy: 'y_noisy.pgm', clean: 'y_clean.pgm' }],
      unpaired: ['x_noisy.pgm'],
    });
    expect(pairByName(['C:\\photos\\p_real.bmp', 'C:\\photos\\p_mean.bmp'], '_real', '_mean').pairs[0].name).toBe('p');
  });
});
