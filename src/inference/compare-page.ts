/**
 * The before/after page `onnxtune denoise` writes beside its outputs (`<out>/index.html`): per
 * image a slider over the noisy input and the denoised output at full resolution (click to see
 * pixels 1:1), from 8-bit PNG previews in `<out>/compare/` (outputs may be TIFF or 16-bit, which
 * browsers do not show). Self-contained: no script or style from anywhere else, so it opens from
 * the disk offline.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { writeImage } from '../images/write';

/** Marks a page this module wrote, so a rerun may replace it and a user's own index.html is never overwritten. */
const MARK = '<meta name="generator" content="onnxtune denoise">';

export interface CompareEntry {
  name: string;
  width: number;
  height: number;
  seconds: number;
  before: string;
  after: string;
}

/** A compare page being written into `out`: add images as they are denoised, then `finish`. */
export class ComparePage {
  private readonly entries: CompareEntry[] = [];
  readonly file: string;

  /**
   * @throws InputError when `out/index.html` exists, was not written by onnxtune, and `force` is off
   */
  constructor(readonly out: string, private readonly title: string, force = false) {
    this.file = path.join(out, 'index.html');
    if (!force && fs.existsSync(this.file) && !fs.readFileSync(this.file, 'utf8').includes(MARK)) {
      throw new InputError(this.file, 'exists and was not written by onnxtune denoise; pass --force to overwrite it, or --no-page');
    }
  }

  /** Writes the two 8-bit previews of one image. */
  async add(name: string, before: { data: Float32Array; channels: 1 | 3 }, after: { data: Float32Array; channels: 1 | 3 }, width: number, height: number, seconds: number): Promise<void> {
    const stem = `${String(this.entries.length + 1).padStart(3, '0')}-${path.basename(name, path.extname(name)).replace(/[^\w.-]+/g, '_')}`;
    const rel = { before: `compare/${stem}.noisy.png`, after: `compare/${stem}.denoised.png` };
    await writeImage(path.join(this.out, rel.before), before.data, width, height, before.channels, 8);
    await writeImage(path.join(this.out, rel.after), after.data, width, height, after.channels, 8);
    this.entries.push({ name: path.basename(name), width, height, seconds, ...rel });
  }

  /** Writes index.html (atomically); returns its path. */
  finish(): string {
    writeFileAtomic(this.file, comparePageHtml(this.title, this.entries));
    return this.file;
  }
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page's HTML for `entries` (exported for tests). */
export function comparePageHtml(title: string, entries: readonly CompareEntry[]): string {
  const figures = entries
    .map(
      (e, i) => `<figure>
  <figcaption><b>${esc(e.name)}</b> · ${e.width}×${e.height} · ${e.seconds.toFixed(2)} s · <span class="hint">drag: left noisy, right denoised · click: both at 1:1 pixels, denoised above noisy</span></figcaption>
  <div class="cmp" style="aspect-ratio:${e.width}/${e.height};max-width:${e.width}px" data-i="${i}">
    <img src="${esc(e.after)}" alt="denoised ${esc(e.name)}">
    <img class="before" src="${esc(e.before)}" alt="noisy ${esc(e.name)}">
    <div class="bar"></div>
  </div>
  <input type="range" min="0" max="100" value="50" aria-label="noisy / denoised split for ${esc(e.name)}">
</figure>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${MARK}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;background:#111;color:#ddd}
h1{font-size:18px} figure{margin:0 0 2em} figcaption{margin:.3em 0} .hint{color:#888}
.cmp{position:relative;width:100%;overflow:hidden;cursor:zoom-in;background:#000}
.cmp img{position:absolute;inset:0;width:100%;height:100%;image-rendering:auto;display:block}
.cmp.zoom{aspect-ratio:auto!important;max-width:none!important;width:auto;overflow:auto;cursor:zoom-out}
.cmp.zoom img{position:static;width:auto;height:auto;image-rendering:pixelated}
.cmp.zoom img.before{clip-path:none!important}.cmp.zoom .bar{display:none}
.bar{position:absolute;top:0;bottom:0;width:2px;background:#fc0;left:50%}
input[type=range]{width:100%;max-width:600px}
</style></head><body>
<h1>${esc(title)}</h1>
<p>${entries.length} image${entries.length === 1 ? '' : 's'}. Left of the yellow line: the input; right: the output.</p>
${figures}
<script>
for (const f of document.querySelectorAll('figure')) {
  const box = f.querySelector('.cmp'), before = f.querySelector('.before'), bar = f.querySelector('.bar'), range = f.querySelector('input');
  const set = (p) => { before.style.clipPath = 'inset(0 ' + (100 - p) + '% 0 0)'; bar.style.left = p + '%'; range.value = p; };
  range.addEventListener('input', () => set(+range.value));
  box.addEventListener('pointermove', (e) => { if (e.buttons && !box.classList.contains('zoom')) { const r = box.getBoundingClientRect(); set(Math.max(0, Math.min(100, 100 * (e.clientX - r.left) / r.width))); } });
  box.addEventListener('click', () => box.classList.toggle('zoom'));
  set(50);
}
</script>
</body></html>
`;
}
