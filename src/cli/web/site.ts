/**
 * The demo as a site: served from the build folder with a model (`onnxtune web`), or copied
 * with a model into a self-contained folder for any static host (`onnxtune export --target web`).
 * Either way the page finds its model through config.json and everything else next to it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listDenoiserCards, DENOISERS_DIR } from '../../../pretrained/shipped';
import { MODEL_DIR, SHIPPED_DIR, SITE_CONFIG_FILE, type ShippedModelEntry, type SiteConfig } from '../../../web/src/site-config';
import { InputError } from '../../errors';
import { ONNXTUNE_VERSION } from '../../version';
import { BUILD_RECORD, ensureWebBuild, type WebBuild } from './build';
import { readWebModel, type WebModel } from '../../inference/model-file';
import { serveStatic, type StaticServer } from './server';

/** A file name safe in a URL path segment and on any file system. */
export function safeModelName(file: string): string {
  const base = path.basename(file).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '');
  return base.toLowerCase().endsWith('.onnx') ? base : `${base || 'model'}.onnx`;
}

function siteConfig(model: WebModel | undefined, build: WebBuild): SiteConfig {
  const name = model ? safeModelName(model.file) : '';
  return {
    model: model ? { url: `${MODEL_DIR}/${encodeURIComponent(name)}`, name, bytes: model.bytes.length } : null,
    onnxtune: ONNXTUNE_VERSION,
    ortWeb: build.ortWeb,
  };
}

/** Options of {@link startWebDemo}. */
export interface WebDemoOptions {
  /** The model to serve; undefined serves the page without one (the user drops a file). */
  model?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Build folder (default: webBuildDirs()); built when missing or stale. */
  buildDir?: string;
  /** Send COOP/COEP so the page may use threads (default true). */
  isolation?: boolean;
  /** Offer the shipped denoisers (pretrained/denoisers/) in the page (default true). */
  shipped?: boolean;
}

/** A running demo. */
export interface WebDemo extends StaticServer {
  model: WebModel | undefined;
  build: WebBuild;
}

/**
 * Builds the page if needed and serves it with `model` on 127.0.0.1.
 * @throws InputError when the model is not a runnable denoiser
 */
export async function startWebDemo(opts: WebDemoOptions = {}): Promise<WebDemo> {
  const model = opts.model ? readWebModel(opts.model) : undefined;
  const build = await ensureWebBuild({ outDir: opts.buildDir });
  const cards = (opts.shipped ?? true) ? listDenoiserCards() : [];
  const shipped: ShippedModelEntry[] = cards.map((c) => ({ name: c.name, url: `${SHIPPED_DIR}/${encodeURIComponent(c.file)}`, summary: c.summary, bytes: c.bytes }));
  const config: SiteConfig = { ...siteConfig(model, build), ...(shipped.length ? { shipped } : {}) };
  const mapped: Record<string, { file: string } | { body: string; type: string }> = {
    [`/${SITE_CONFIG_FILE}`]: { body: JSON.stringify(config, null, 2) + '\n', type: 'application/json; charset=utf-8' },
  };
  if (model && config.model) mapped[`/${config.model.url}`] = { file: path.resolve(model.file) };
  cards.forEach((c, k) => (mapped[`/${shipped[k].url}`] = { file: path.join(DENOISERS_DIR, c.file) }));
  const server = await serveStatic({ root: build.dir, port: opts.port, mapped, isolation: opts.isolation });
  return { ...server, model, build };
}

/** What {@link exportWebSite} wrote. */
export interface WebExport {
  dir: string;
  files: string[];
  bytes: number;
  model: WebModel;
}

function copyTree(src: string, dest: string, skip: ReadonlySet<string>): void {
  fs.mkdirSync(dest, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    if (skip.has(e.name)) continue;
    const from = path.join(src, e.name);
    const to = path.join(dest, e.name);
    if (e.isDirectory()) copyTree(from, to, new Set());
    else if (e.isFile()) fs.copyFileSync(from, to);
  }
}

function listTree(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listTree(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

/**
 * Writes the page, the wasm files, the samples and `model` into `outDir` for a static host.
 * The folder is assembled beside `outDir` and renamed into place.
 * @param opts.force replace a non-empty `outDir`
 * @throws InputError when the model is not a runnable denoiser, or `outDir` is not empty and force is off
 */
export async function exportWebSite(modelFile: string, outDir: string, opts: { force?: boolean; buildDir?: string } = {}): Promise<WebExport> {
  const model = readWebModel(modelFile);
  const dest = path.resolve(outDir);
  const existing = fs.statSync(dest, { throwIfNoEntry: false });
  if (existing && !existing.isDirectory()) throw new InputError(dest, 'exists and is not a folder');
  if (existing && fs.readdirSync(dest).length > 0 && !opts.force) {
    throw new InputError(dest, 'folder exists and is not empty; choose another --out or pass --force to replace it');
  }
  const build = await ensureWebBuild({ outDir: opts.buildDir });
  const tmp = `${dest}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    copyTree(build.dir, tmp, new Set([BUILD_RECORD]));
    const config = siteConfig(model, build);
    fs.mkdirSync(path.join(tmp, MODEL_DIR), { recursive: true });
    fs.copyFileSync(model.file, path.join(tmp, MODEL_DIR, config.model!.name));
    fs.writeFileSync(path.join(tmp, SITE_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
    if (existing) fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const files = listTree(dest).sort();
  const bytes = files.reduce((sum, f) => sum + fs.statSync(path.join(dest, f)).size, 0);
  return { dir: dest, files, bytes, model };
}
