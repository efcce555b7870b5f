/**
 * The package as a user gets it: `npm pack` on a copy of the checkout's tracked files (so a stale
 * dist/ or local junk cannot leak in, and the repo's own dist/ is left alone), then `npm install
 * <tarball>` into an empty project from the npm cache, with install scripts denied — so the
 * optional @tensorflow/tfjs-node is present without its native binding and onnxtune must fall back
 * to wasm. From that project: `npx onnxtune --version`, `inspect` on the shipped encoder,
 * `denoise` with a model built here and with a shipped denoiser by name, on BMP and 16-bit PGM files
 * with paths relative to the project, a short training run on wasm from the shipped job file, the
 * web page built from the shipped sources, types through the exports map, and a `.cjs`
 * and an `.mjs` file using the library.
 *
 * Slow (about a minute: a tsc build and an install); ONNXTUNE_SKIP_INSTALL_TEST=1 skips it.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { buildWebApp } from '../../src/cli/web/build';
import { GraphBuilder } from '../../src/onnx/builder';
import { saveModel } from '../../src/onnx/model-io';
import { readImage } from '../../src/images/png';
import { writeBmp, writePnm } from '../helpers/image-files';

const ROOT = path.resolve(__dirname, '..', '..');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; name: string };

/** The files a clean checkout has: tracked plus new unignored ones; undefined outside a git checkout. */
function checkoutFiles(): string[] | undefined {
  try {
    return execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\0')
      .filter((f) => f && !f.startsWith('node_modules') && fs.existsSync(path.join(ROOT, f)));
  } catch {
    return undefined;
  }
}

const FILES = process.env.ONNXTUNE_SKIP_INSTALL_TEST === '1' ? undefined : checkoutFiles();
const describeInstall = FILES ? describe : describe.skip;
if (!FILES) {
  const why = process.env.ONNXTUNE_SKIP_INSTALL_TEST === '1' ? 'ONNXTUNE_SKIP_INSTALL_TEST=1' : 'not a git checkout (git ls-files failed)';
  console.warn(`test/package/install.test.ts skipped: ${why}`);
}

interface PackEntry {
  path: string;
  size: number;
}
interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: PackEntry[];
}

/** Environment for child npm/node: without the npm_* variables of an enclosing `npm test`, which would steer the inner npm. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.toLowerCase().startsWith('npm_') || k === 'npm_config_cache' || k === 'npm_config_registry') env[k] = v;
  }
  delete env.NODE_OPTIONS;
  delete env.ONNXTUNE_TF_BACKEND;
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], cwd: string, extra?: Record<string, string>): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: childEnv(extra), encoding: 'utf8', timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
}

/** `npx --no -- onnxtune …` in the project (`--` keeps npx from taking --version for itself). */
function npxOnnxtune(project: string, args: string[]): SpawnSyncReturns<string> {
  return run('npx', ['--no', '--', 'onnxtune', ...args], project);
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status ?? r.signal}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

describeInstall('the npm package, installed from its tarball', () => {
  let tmp: string;
  let project: string;
  let pack: PackResult;
  const W = 37;
  const H = 21;
  const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 97 + 13) % 256);
  const gray16 = Uint16Array.from({ length: W * H }, (_, i) => (i * 4099 + 7) % 65536);
  const timings: Record<string, number> = {};

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-install-'));
    // A clean checkout: the tracked (and new, not ignored) files, with the repo's node_modules for the build.
    const stage = path.join(tmp, 'checkout');
    for (const f of FILES ?? []) {
      fs.mkdirSync(path.dirname(path.join(stage, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(stage, f));
    }
    fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(stage, 'node_modules'), 'dir');

    let t0 = Date.now();
    const out = ok(run('npm', ['pack', '--json', '--pack-destination', tmp], stage), 'npm pack');
    timings.pack = (Date.now() - t0) / 1000;
    pack = (JSON.parse(out.slice(out.indexOf('[\n'))) as PackResult[])[0];

    project = path.join(tmp, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    t0 = Date.now();
    ok(
      run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', path.join(tmp, pack.filename)], project),
      'npm install <tarball>',
    );
    timings.install = (Date.now() - t0) / 1000;
  }, 480_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    if (pack) {
      console.log(
        `onnxtune tarball: ${pack.entryCount} files, ${(pack.size / 1024).toFixed(0)} kB packed, ${(pack.unpackedSize / 1024).toFixed(0)} kB unpacked; ` +
          `pack ${timings.pack?.toFixed(1)} s, install ${timings.install?.toFixed(1)} s`,
      );
    }
  });

  it('ships the build, types, CLI, configs, encoder and page sources, and no tests, sources or source maps', async () => {
    const names = pack.files.map((f) => f.path);
    for (const f of [
      'package.json', 'README.md', 'SECURITY.md', 'LICENSE', 'CHANGELOG.md', 'bin/onnxtune.js',
      'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/src/cli/supervisor.js',
      'configs/mnist-dae.yaml', 'configs/schema.json', 'pretrained/mnist-conv-ae/encoder.onnx',
      'web/index.html', 'web/app.css', 'web/src/main.ts', 'src/images/bmp.ts',
      'pretrained/denoisers/README.md', 'pretrained/denoisers/gray-blind.onnx', 'pretrained/denoisers/gray-blind.json',
    ]) {
      expect(names).toContain(f);
    }
    expect(names.filter((f) => /^(test|bench|scripts|\.ci)\/|^dist\/(test|bench)\/|\.map$|\.test\.|^tsconfig|^jest/.test(f))).toEqual([]);
    // TypeScript sources ship exactly where the page's bundle needs them: web/src and what its two
    // entries (the page, the fine-tuning worker) import, as the web build records them.
    const sources = names.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('web/src/'));
    const webBuild = await buildWebApp({ outDir: path.join(tmp, 'web-inputs'), minify: false });
    const record = JSON.parse(fs.readFileSync(path.join(webBuild.dir, '.build.json'), 'utf8')) as { inputs: string[] };
    const bundled = record.inputs.filter((f) => f.endsWith('.ts') && !f.startsWith('web/src/'));
    expect(bundled).toContain('pipeline/finetune/finetune.ts');
    expect(sources.sort()).toEqual(bundled.sort());
    // The four shipped denoisers are ≈ 2 MB each (float16 weights, which hardly compress).
    expect(pack.size).toBeLessThan(12 * 1024 * 1024);
  });

  it('runs `npx onnxtune --version` and `inspect` on the shipped encoder', () => {
    expect(ok(npxOnnxtune(project, ['--version']), '--version').trim()).toBe(PKG.version);
    const encoder = path.join('node_modules', 'onnxtune', 'pretrained', 'mnist-conv-ae', 'encoder.onnx');
    const out = ok(npxOnnxtune(project, ['inspect', encoder]), 'inspect');
    expect(out).toMatch(/onnxtune\.model\s+mnist-conv-ae encoder/);
    expect(out).toMatch(/\/4\s+64\s+stage2/);
  });

  it('denoises BMP and 16-bit PGM files with paths relative to the current folder', async () => {
    // A per-pixel model, y = 0.5·x + 0.25, built with the project's GraphBuilder: exact expected outputs.
    const b = new GraphBuilder();
    b.addInput('x', ['n', 1, 'h', 'w']);
    b.addInitializer('half', [], new Float32Array([0.5]));
    b.addInitializer('quarter', [], new Float32Array([0.25]));
    b.addNode('Mul', ['x', 'half'], ['m']);
    b.addNode('Add', ['m', 'quarter'], ['y']);
    b.addOutput('y', ['n', 1, 'h', 'w']);
    saveModel(b.toModel({ opset: 17 }), path.join(project, 'affine.onnx'));
    fs.mkdirSync(path.join(project, 'in'));
    fs.writeFileSync(path.join(project, 'in', 'photo.bmp'), writeBmp({ width: W, height: H, bpp: 24, rgb }));
    fs.writeFileSync(path.join(project, 'in', 'scan.pgm'), writePnm('P5', gray16, 65535, W, H));

    const r = npxOnnxtune(project, ['denoise', 'affine.onnx', 'in', '--out', 'out', '--device', 'cpu']);
    ok(r, 'denoise');
    expect(fs.readdirSync(path.join(project, 'out')).sort()).toEqual(['compare', 'index.html', 'photo.png', 'scan.png']);
    // A shipped denoiser by name, resolved inside the installed package.
    ok(npxOnnxtune(project, ['denoise', '--model', 'gray-blind', 'in/scan.pgm', '--out', 'out-shipped', '--no-page']), 'denoise --model gray-blind');
    expect(fs.readdirSync(path.join(project, 'out-shipped'))).toEqual(['scan.png']);

    const photo = await sharp(path.join(project, 'out', 'photo.png')).raw().toBuffer({ resolveWithObject: true });
    expect(photo.info).toMatchObject({ width: W, height: H, channels: 3 });
    const expected8 = Array.from(rgb, (v) => Math.round((0.5 * v) / 255 * 255 + 0.25 * 255));
    expect(Float32Array.from(photo.data)).toBeCloseToArray(expected8, { atol: 1 });

    const scanFile = path.join(project, 'out', 'scan.png');
    expect(await sharp(scanFile).metadata()).toMatchObject({ width: W, height: H, channels: 1, depth: 'ushort' });
    const scan = await readImage(scanFile);
    expect(scan.data).toBeCloseToArray(Array.from(gray16, (v) => (0.5 * v) / 65535 + 0.25), { atol: 1 / 65535 });
  });

  it('trains on wasm TensorFlow.js from the shipped job file, writing runs/ in the current folder', () => {
    const job = path.join('node_modules', 'onnxtune', 'configs', 'mnist-dae.yaml');
    const r = npxOnnxtune(project, ['run', job, '--set', 'train.epochs=1', '--set', 'data.limit=500']);
    ok(r, 'run');
    expect(r.stderr).toMatch(/TensorFlow\.js backend: wasm/);
    const runs = fs.readdirSync(path.join(project, 'runs'));
    expect(runs).toHaveLength(1);
    expect(fs.existsSync(path.join(project, 'runs', runs[0], 'export', 'mnist-denoiser.onnx'))).toBe(true);
  });

  it('builds the web page from the shipped sources', () => {
    ok(npxOnnxtune(project, ['web', '--build-only']), 'web --build-only');
    const built = path.join(project, 'node_modules', 'onnxtune', 'dist', 'web-demo');
    expect(fs.existsSync(path.join(built, 'index.html'))).toBe(true);
    expect(fs.readdirSync(built).some((f) => f.endsWith('.js') || f.endsWith('.mjs'))).toBe(true);
  });

  it('ships types that TypeScript finds through the exports map, for import and require', () => {
    fs.writeFileSync(
      path.join(project, 'check.mts'),
      [
        "import { readImage, type DecodedImage, ONNXTUNE_VERSION } from 'onnxtune';",
        "const img: DecodedImage = await readImage('in/photo.bmp');",
        'export const n: number = img.width;',
        'export const v: string = ONNXTUNE_VERSION;',
        '// @ts-expect-error fails unless the real types (not any) were found',
        'export const bad: string = img.width;',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(project, 'check.cts'),
      ["import onnxtune = require('onnxtune');", '// @ts-expect-error fails unless the real types were found', "export const bad: number = onnxtune.ONNXTUNE_VERSION;"].join('\n'),
    );
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--skipLibCheck'];
    ok(run('node', [...args, '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), 'check.mts', 'check.cts'], project), 'tsc');
  });

  it('is usable with require() from a .cjs file, on wasm TensorFlow.js when the native binding is missing', () => {
    fs.writeFileSync(
      path.join(project, 'use.cjs'),
      [
        "const path = require('node:path');",
        "const onnxtune = require('onnxtune');",
        "const info = onnxtune.modelInfo(onnxtune.loadModel(path.join(onnxtune.MNIST_ENCODER_DIR, 'encoder.onnx')));",
        'onnxtune.initTf().then((rt) => {',
        '  console.log(JSON.stringify({ version: onnxtune.ONNXTUNE_VERSION, inputs: info.inputs.map((i) => i.name), backend: rt.backend }));',
        '});',
      ].join('\n'),
    );
    const out = JSON.parse(ok(run('node', ['use.cjs'], project), 'node use.cjs').trim().split('\n').pop()!);
    expect(out).toEqual({ version: PKG.version, inputs: ['image'], backend: 'wasm' });
  });

  it('is usable with import from an .mjs file (named and default imports)', () => {
    fs.writeFileSync(
      path.join(project, 'use.mjs'),
      [
        "import onnxtune, { readImage, psnr } from 'onnxtune';",
        "const img = await readImage('in/scan.pgm');",
        'const half = img.data.map((v) => v * 0.5);',
        'console.log(JSON.stringify({ width: img.width, height: img.height, channels: img.channels, psnr: psnr(img.data, half), sameFn: onnxtune.psnr === psnr }));',
      ].join('\n'),
    );
    const out = JSON.parse(ok(run('node', ['use.mjs'], project), 'node use.mjs').trim());
    const clean = Float32Array.from(gray16, (v) => v / 65535);
    let se = 0;
    for (const v of clean) se += (v * 0.5) ** 2;
    expect(out).toMatchObject({ width: W, height: H, channels: 1, sameFn: true });
    expect(out.psnr).toBeCloseTo(10 * Math.log10(1 / (se / clean.length)), 3);
  });
});
