/**
 * Where the web demo's pieces live: the page sources (web/), the build folder (dist/web-demo),
 * and the onnxruntime-web files the page needs at run time (copied from its npm dist, never
 * fetched from a CDN). The default `onnxruntime-web` import is the JSEP build: wasm EP plus
 * WebGPU, one .mjs loader and one .wasm binary.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from '../../errors';
import { ONNXTUNE_VERSION, PROJECT_ROOT } from '../../version';

/** The page's sources: index.html, app.css, src/*.ts. */
export const WEB_SOURCE_DIR = path.join(PROJECT_ROOT, 'web');
/**
 * Where `onnxtune web` and `export --target web` keep the built page: $ONNXTUNE_WEB_BUILD_DIR; else dist/web-demo in
 * the package, or, where the package folder is read-only to this user (a global install), a per-user cache folder.
 */
export function webBuildDir(): string {
  return webBuildDirs()[0];
}

/**
 * The folders a built page may be found in, the one to build into first: $ONNXTUNE_WEB_BUILD_DIR alone; else
 * dist/web-demo and $XDG_CACHE_HOME (or ~/.cache)/onnxtune/web-demo-<version>, the package's first unless this user
 * cannot write there.
 * @param writable whether this user may create entries in a folder (tests pass their own)
 */
export function webBuildDirs(writable: (dir: string) => boolean = canWrite): string[] {
  if (process.env.ONNXTUNE_WEB_BUILD_DIR) return [path.resolve(process.env.ONNXTUNE_WEB_BUILD_DIR)];
  return packageOrCacheDirs(path.join(PROJECT_ROOT, 'dist', 'web-demo'), `web-demo-${ONNXTUNE_VERSION}`, writable);
}

/**
 * A folder the CLI writes next to its own files (`inPackage`), and the per-user cache folder
 * $XDG_CACHE_HOME (or ~/.cache)/onnxtune/<cacheName> for when it cannot: the one to write first, then the other
 * (which may hold what an earlier run, or the installer, wrote).
 */
export function packageOrCacheDirs(inPackage: string, cacheName: string, writable: (dir: string) => boolean = canWrite): string[] {
  const cache = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'onnxtune', cacheName);
  return writable(path.dirname(inPackage)) ? [inPackage, cache] : [cache, inPackage];
}

/** Whether this user may create `dir`'s entries: `dir` itself, or its nearest existing ancestor when it is not there yet. */
function canWrite(dir: string): boolean {
  let at = path.resolve(dir);
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  try {
    fs.accessSync(at, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A package's Node entry file, resolved as require() does from the project. */
function resolveEntry(name: string): string {
  try {
    return require.resolve(name, { paths: [PROJECT_ROOT] });
  } catch (err) {
    throw new InputError(name, 'is not installed (npm ci installs it)', { cause: err });
  }
}

/** The ES module the page imports, and the files it loads itself from `env.wasm.wasmPaths`. */
export const ORT_WEB_FILES = Object.freeze({
  module: 'ort.min.mjs',
  runtime: ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'] as const,
});

/**
 * The folder of onnxruntime-web's dist files and its version.
 * @throws InputError when onnxruntime-web is not installed or lacks a file the page needs
 */
export function ortWebDist(): { dir: string; version: string } {
  // package.json is not in the package's "exports"; its Node entry lives in dist/.
  const dir = path.dirname(resolveEntry('onnxruntime-web'));
  const version = (JSON.parse(fs.readFileSync(path.join(dir, '..', 'package.json'), 'utf8')) as { version: string }).version;
  for (const f of [ORT_WEB_FILES.module, ...ORT_WEB_FILES.runtime]) {
    if (!fs.existsSync(path.join(dir, f))) throw new InputError(path.join(dir, f), `missing from onnxruntime-web ${version}`);
  }
  return { dir, version };
}

/** Where the site keeps TF.js's wasm binaries (the fine-tuning worker's backend), and which. */
export const TFJS_WASM_DIR = 'tfjs';
export const TFJS_WASM_FILES = Object.freeze(['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const);

/**
 * The folder of @tensorflow/tfjs-backend-wasm's wasm files.
 * @throws InputError when the package or a file is missing
 */
export function tfjsWasmDist(): { dir: string } {
  // The Node entry is dist/[base/]index.js; the wasm files sit in dist/.
  let dir = path.dirname(resolveEntry('@tensorflow/tfjs-backend-wasm'));
  while (!fs.existsSync(path.join(dir, TFJS_WASM_FILES[0])) && path.basename(dir) !== 'tfjs-backend-wasm' && dir !== path.dirname(dir)) dir = path.dirname(dir);
  for (const f of TFJS_WASM_FILES) {
    if (!fs.existsSync(path.join(dir, f))) throw new InputError(path.join(dir, f), 'missing from @tensorflow/tfjs-backend-wasm');
  }
  return { dir };
}
