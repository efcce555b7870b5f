/**
 * Builds the demo page into a folder: esbuild bundles web/src/main.ts to one ES module (with
 * onnxruntime-web left external and served from ort/), and the folder gets index.html, app.css,
 * onnxruntime-web's loader and wasm, the generated samples and a default config.json (no model).
 * A build records a key over its inputs, so `ensureWebBuild` rebuilds only when something changed.
 * The folder is written beside the target and renamed into place.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Esbuild from 'esbuild';
import { MODEL_DIR, ORT_DIR, SAMPLES_INDEX_FILE, SITE_CONFIG_FILE, type SiteConfig } from '../../../web/src/site-config';
import { InputError } from '../../errors';
import { sha256 } from '../../io/hash';
import { log } from '../../log';
import { ONNXTUNE_VERSION, PROJECT_ROOT } from '../../version';
import { ORT_WEB_FILES, TFJS_WASM_DIR, TFJS_WASM_FILES, WEB_SOURCE_DIR, ortWebDist, tfjsWasmDist, webBuildDir, webBuildDirs } from './assets';
import { writeSamples } from './samples';

/** Bump when the build's output layout changes (part of the build key). */
export const WEB_BUILD_FORMAT = 2;
/** The record a build leaves in its folder. */
export const BUILD_RECORD = '.build.json';

interface BuildRecord {
  key: string;
  format: number;
  onnxtune: string;
  ortWeb: string;
  /** Project-relative source files the bundle was made from. */
  inputs: string[];
  builtAt: string;
}

/** What {@link buildWebApp} and {@link ensureWebBuild} return. */
export interface WebBuild {
  dir: string;
  key: string;
  /** False when an up-to-date build was reused. */
  built: boolean;
  ortWeb: string;
}

function loadEsbuild(): typeof Esbuild {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('esbuild') as typeof Esbuild;
  } catch (err) {
    throw new InputError('esbuild', 'is needed to build the web page (a devDependency: run `npm ci`, or copy a folder made by `onnxtune export --target web`)', { cause: err });
  }
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Page files outside the bundle graph that the build copies. */
const STATIC_FILES = ['index.html', 'app.css'] as const;

/** The build key over the page sources, the bundle's recorded inputs and the versions that shape the output. */
function buildKey(recordedInputs: readonly string[], ortWeb: string): string {
  const files = new Set<string>([
    ...STATIC_FILES.map((f) => path.join(WEB_SOURCE_DIR, f)),
    ...listFiles(path.join(WEB_SOURCE_DIR, 'src')),
    ...recordedInputs.map((f) => path.join(PROJECT_ROOT, f)),
    // Samples come from this generator; the build itself shapes the folder (the TypeScript
    // sources, so a run from dist/ and one from source agree on the key).
    path.join(PROJECT_ROOT, 'src', 'cli', 'web', 'samples.ts'),
    path.join(PROJECT_ROOT, 'src', 'cli', 'web', 'build.ts'),
  ]);
  const parts = [...files].sort().map((f) => `${path.relative(PROJECT_ROOT, f)}:${fs.existsSync(f) ? sha256(fs.readFileSync(f)) : 'missing'}`);
  return sha256([`format ${WEB_BUILD_FORMAT}`, `onnxruntime-web ${ortWeb}`, `onnxtune ${ONNXTUNE_VERSION}`, ...parts].join('\n')).slice(0, 16);
}

function readRecord(dir: string): BuildRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, BUILD_RECORD), 'utf8')) as BuildRecord;
  } catch {
    return undefined;
  }
}

/** Replaces `dest` by the finished folder `tmp` (the old one is removed after the swap). */
function swapInto(tmp: string, dest: string): void {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (fs.existsSync(dest)) {
    const old = `${dest}.old-${process.pid}-${Date.now()}`;
    fs.renameSync(dest, old);
    fs.renameSync(tmp, dest);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.renameSync(tmp, dest);
  }
}

/** Whether process `pid` is alive on this machine (signal 0 tests without sending; EPERM: alive, not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary and replaced folders (`<outDir>.tmp-<pid>-…`, `.old-<pid>-…`) of builds whose process is
 * gone: a build stopped by Ctrl-C or a kill leaves ~30 MB (onnxruntime-web's wasm) beside the page otherwise.
 */
function removeStaleBuilds(outDir: string): void {
  const parent = path.dirname(outDir);
  const stale = new RegExp(`^${path.basename(outDir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:tmp|old)-(\\d+)-`);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.match(stale)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

/**
 * Builds the page into `outDir` (replacing what is there).
 * @param opts.minify minify the bundle (default true)
 * @throws InputError when esbuild or onnxruntime-web is missing; Error from esbuild on a compile error
 */
export async function buildWebApp(opts: { outDir?: string; minify?: boolean } = {}): Promise<WebBuild> {
  const outDir = path.resolve(opts.outDir ?? webBuildDir());
  const esbuild = loadEsbuild();
  const ort = ortWebDist();
  const tfjsWasm = tfjsWasmDist();
  const t0 = Date.now();
  removeStaleBuilds(outDir);
  const tmp = `${outDir}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    fs.mkdirSync(tmp, { recursive: true });
  } catch (err) {
    throw new InputError(outDir, `cannot build the web page here (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); set ONNXTUNE_WEB_BUILD_DIR to a writable folder`, { cause: err });
  }
  try {
    const result = await esbuild.build({
      absWorkingDir: PROJECT_ROOT,
      // The page, and the Fine-tune panel's worker (TF.js and the training core live only there).
      entryPoints: { app: path.join(WEB_SOURCE_DIR, 'src', 'main.ts'), 'finetune-worker': path.join(WEB_SOURCE_DIR, 'src', 'finetune-worker.ts') },
      outdir: tmp,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['chrome110', 'firefox115', 'safari16.4'],
      tsconfig: path.join(WEB_SOURCE_DIR, 'tsconfig.json'),
      minify: opts.minify ?? true,
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
      plugins: [
        {
          // onnxruntime-web stays a separate file: its loader finds the wasm and spawns thread
          // workers relative to its own URL, which a bundle would break.
          name: 'onnxruntime-web-external',
          setup(build) {
            build.onResolve({ filter: /^onnxruntime-web$/ }, () => ({ path: `./${ORT_DIR}/${ORT_WEB_FILES.module}`, external: true }));
          },
        },
      ],
    });
    const inputs = Object.keys(result.metafile.inputs)
      .map((f) => path.relative(PROJECT_ROOT, path.resolve(PROJECT_ROOT, f)))
      .filter((f) => !f.startsWith('node_modules'))
      .sort();
    for (const f of STATIC_FILES) fs.copyFileSync(path.join(WEB_SOURCE_DIR, f), path.join(tmp, f));
    fs.mkdirSync(path.join(tmp, ORT_DIR));
    for (const f of [ORT_WEB_FILES.module, ...ORT_WEB_FILES.runtime]) fs.copyFileSync(path.join(ort.dir, f), path.join(tmp, ORT_DIR, f));
    fs.mkdirSync(path.join(tmp, TFJS_WASM_DIR));
    for (const f of TFJS_WASM_FILES) fs.copyFileSync(path.join(tfjsWasm.dir, f), path.join(tmp, TFJS_WASM_DIR, f));
    fs.mkdirSync(path.join(tmp, MODEL_DIR));
    const samples = await writeSamples(tmp);
    fs.writeFileSync(path.join(tmp, SAMPLES_INDEX_FILE), JSON.stringify(samples, null, 2) + '\n');
    const config: SiteConfig = { model: null, onnxtune: ONNXTUNE_VERSION, ortWeb: ort.version };
    fs.writeFileSync(path.join(tmp, SITE_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
    const key = buildKey(inputs, ort.version);
    const record: BuildRecord = { key, format: WEB_BUILD_FORMAT, onnxtune: ONNXTUNE_VERSION, ortWeb: ort.version, inputs, builtAt: new Date().toISOString() };
    fs.writeFileSync(path.join(tmp, BUILD_RECORD), JSON.stringify(record, null, 2) + '\n');
    swapInto(tmp, outDir);
    log.info(`Built the web page into ${outDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s (onnxruntime-web ${ort.version})`);
    return { dir: outDir, key, built: true, ortWeb: ort.version };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Returns an up-to-date build in `outDir`, building only when the sources, onnxruntime-web or
 * onnxtune changed since the recorded build. Without page sources (an installed package) an
 * existing build is used as is.
 */
export async function ensureWebBuild(opts: { outDir?: string; force?: boolean } = {}): Promise<WebBuild> {
  const dirs = opts.outDir ? [path.resolve(opts.outDir)] : webBuildDirs();
  for (const dir of opts.force ? [] : dirs) {
    const record = readRecord(dir);
    if (!record) continue;
    const haveSources = fs.existsSync(path.join(WEB_SOURCE_DIR, 'src', 'main.ts'));
    if (!haveSources || record.key === buildKey(record.inputs, ortWebDist().version)) {
      log.debug(`Web page build ${record.key} in ${dir} is up to date`);
      return { dir, key: record.key, built: false, ortWeb: record.ortWeb };
    }
  }
  return buildWebApp({ outDir: dirs[0] });
}
