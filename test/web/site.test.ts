/**
 * The Node side of the web demo: the esbuild build (and its up-to-date check), the static server
 * on 127.0.0.1 (MIME types, isolation headers, no escaping the root), the demo site with its
 * model and config, and the `web` / `export --target web` commands.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { BUILD_RECORD, buildWebApp, ensureWebBuild, type WebBuild } from '../../src/cli/web/build';
import { ensureDefaultModel } from '../../src/cli/web/default-model';
import { openNodeDenoiser } from '../../src/inference/node-denoise';
import { readWebModel } from '../../src/inference/model-file';
import { resolveUnderRoot, serveStatic, type StaticServer } from '../../src/cli/web/server';
import { safeModelName, startWebDemo } from '../../src/cli/web/site';
import { DENOISERS_DIR, listDenoiserCards } from '../../pretrained/shipped';
import { InputError } from '../../src/errors';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';
import { tinyDenoiserReference, writeTinyDenoiser } from '../helpers/web';

/** A raw GET/HEAD (fetch would normalize `..` away before sending). */
function request(url: string, rawPath: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web demo, Node side', () => {
  const dir = tmpDir('onnxtune-site-');
  const buildDir = path.join(dir, 'build');
  let build: WebBuild;
  let model: string;
  const savedEnv = process.env.ONNXTUNE_WEB_BUILD_DIR;

  beforeAll(async () => {
    process.env.ONNXTUNE_WEB_BUILD_DIR = buildDir;
    model = writeTinyDenoiser(dir);
    build = await buildWebApp({ outDir: buildDir });
  }, 60_000);

  afterAll(() => {
    if (savedEnv === undefined) delete process.env.ONNXTUNE_WEB_BUILD_DIR;
    else process.env.ONNXTUNE_WEB_BUILD_DIR = savedEnv;
  });

  describe('build', () => {
    it('writes the page, the bundle, onnxruntime-web files, samples and a default config', () => {
      for (const f of ['index.html', 'app.css', 'app.js', 'config.json', 'samples/index.json', 'ort/ort.min.mjs',
        'ort/ort-wasm-simd-threaded.jsep.mjs', 'ort/ort-wasm-simd-threaded.jsep.wasm', 'samples/digits-256.png']) {
        expect(fs.existsSync(path.join(buildDir, f))).toBe(true);
      }
      const js = fs.readFileSync(path.join(buildDir, 'app.js'), 'utf8');
      // onnxruntime-web is not bundled: the page imports the served copy.
      expect(js).toContain('./ort/ort.min.mjs');
      expect(js).not.toMatch(/jsdelivr|unpkg|cdnjs/);
      expect(JSON.parse(fs.readFileSync(path.join(buildDir, 'config.json'), 'utf8'))).toMatchObject({ model: null, ortWeb: '1.30.0' });
      const samples = JSON.parse(fs.readFileSync(path.join(buildDir, 'samples/index.json'), 'utf8'));
      expect(samples.map((s: { id: string }) => s.id)).toEqual(['digits-256', 'digit-x8', 'digits-1024x768']);
    });

    it('reuses an up-to-date build and rebuilds a stale one', async () => {
      const again = await ensureWebBuild({ outDir: buildDir });
      expect(again).toMatchObject({ built: false, key: build.key });
      const recordFile = path.join(buildDir, BUILD_RECORD);
      const record = JSON.parse(fs.readFileSync(recordFile, 'utf8'));
      fs.writeFileSync(recordFile, JSON.stringify({ ...record, key: 'stale' }));
      const rebuilt = await ensureWebBuild({ outDir: buildDir });
      expect(rebuilt).toMatchObject({ built: true, key: build.key });
      expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
    }, 60_000);
  });

  describe('static server', () => {
    let server: StaticServer;
    beforeAll(async () => {
      server = await serveStatic({ root: buildDir, mapped: { '/config.json': { body: '{"model":null}', type: 'application/json' } } });
    });
    afterAll(() => server.close());

    it('listens on 127.0.0.1 only', () => {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    });

    it.each([
      ['/', 'text/html; charset=utf-8'],
      ['/app.js', 'text/javascript; charset=utf-8'],
      ['/ort/ort.min.mjs', 'text/javascript; charset=utf-8'],
      ['/ort/ort-wasm-simd-threaded.jsep.wasm', 'application/wasm'],
      ['/samples/digits-256.png', 'image/png'],
      ['/samples/index.json', 'application/json; charset=utf-8'],
      ['/app.css', 'text/css; charset=utf-8'],
    ])('serves %s as %s with the isolation headers', async (p, type) => {
      const res = await request(server.url, p, 'HEAD');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(res.headers['cross-origin-embedder-policy']).toBe('require-corp');
    });

    it('serves mapped resources before files', async () => {
      const res = await request(server.url, '/config.json');
      expect(res.body.toString()).toBe('{"model":null}');
    });

    it.each(['/../package.json', '/%2e%2e/package.json', '/..%2f..%2fpackage.json', '/nope.js', '/samples/%00x'])('answers 404 for %s', async (p) => {
      expect((await request(server.url, p)).status).toBe(404);
    });

    it('refuses methods other than GET and HEAD', async () => {
      expect((await request(server.url, '/', 'POST')).status).toBe(405);
    });

    it('resolveUnderRoot keeps paths inside the root', () => {
      expect(resolveUnderRoot(buildDir, '/')).toBe(path.join(buildDir, 'index.html'));
      // `..` cannot climb above the root: /../app.js is /app.js.
      expect(resolveUnderRoot(buildDir, '/../app.js')).toBe(path.join(buildDir, 'app.js'));
      expect(resolveUnderRoot(buildDir, '/samples/../app.js')).toBe(path.join(buildDir, 'app.js'));
      expect(resolveUnderRoot(path.join(buildDir, 'samples'), '/../app.js')).toBeUndefined();
      expect(resolveUnderRoot(buildDir, '/%E0%A4%A')).toBeUndefined();
    });
  });

  it('startWebDemo serves the model and a config naming it', async () => {
    const demo = await startWebDemo({ model, port: 0 });
    try {
      const config = JSON.parse((await request(demo.url, '/config.json')).body.toString());
      expect(config.model).toEqual({ url: 'model/tiny.onnx', name: 'tiny.onnx', bytes: fs.statSync(model).size });
      const bytes = (await request(demo.url, `/${config.model.url}`)).body;
      expect(bytes.equals(fs.readFileSync(model))).toBe(true);
      // The shipped denoisers are offered and served from pretrained/denoisers/.
      const cards = listDenoiserCards();
      expect((config.shipped ?? []).map((m: { name: string }) => m.name)).toEqual(cards.map((c) => c.name));
      for (const [k, m] of ((config.shipped ?? []) as Array<{ url: string }>).entries()) {
        expect((await request(demo.url, `/${m.url}`)).body.equals(fs.readFileSync(path.join(DENOISERS_DIR, cards[k].file)))).toBe(true);
      }
    } finally {
      await demo.close();
    }
  });

  it('safeModelName keeps names URL- and file-system-safe', () => {
    expect(safeModelName('/a/b/mnist-denoiser.onnx')).toBe('mnist-denoiser.onnx');
    expect(safeModelName('my model (1).onnx')).toBe('my_model_1_.onnx');
    expect(safeModelName('..weird')).toBe('weird.onnx');
  });

  it('readWebModel refuses a file that is not a denoiser with InputError', () => {
    const png = path.join(buildDir, 'samples', 'digits-256.png');
    expect(() => readWebModel(png)).toThrow(InputError);
    expect(() => readWebModel(path.join(dir, 'missing.onnx'))).toThrow(/cannot read the model/);
  });

  it('the Node denoiser gives the hand-computed output, and refuses float16 IO', async () => {
    const node = await openNodeDenoiser(model, { threads: 1 });
    try {
      const x = Float32Array.from({ length: 40 * 50 }, (_, i) => (i * 37) % 101 / 100);
      const r = await node.denoise({ data: x, channels: 1, height: 40, width: 50 }, { tile: 32, overlap: 8 });
      expect(r.tiles).toHaveLength(4);
      // Tiled: pixels near tile seams blend padded borders, so compare with the tolerance of a seam.
      const ref = tinyDenoiserReference(x, 40, 50);
      expect(r.output.data).toBeCloseToArray(ref, { atol: 0.05 });
      const whole = await node.denoise({ data: x, channels: 1, height: 40, width: 50 }, { tile: 64 });
      expect(whole.output.data).toBeCloseToArray(ref, { atol: 1e-5 });
    } finally {
      await node.release();
    }
    await expect(openNodeDenoiser(writeTinyDenoiser(dir, { float16: true }))).rejects.toThrow(/float16/);
  });

  it('ensureDefaultModel returns an existing default model without training', async () => {
    const runDir = path.join(dir, 'default-run');
    fs.mkdirSync(path.join(runDir, 'export'), { recursive: true });
    fs.copyFileSync(model, path.join(runDir, 'export', 'mnist-denoiser.onnx'));
    fs.writeFileSync(path.join(runDir, 'export', 'DONE'), 'key');
    await expect(ensureDefaultModel(runDir)).resolves.toBe(path.join(runDir, 'export', 'mnist-denoiser.onnx'));
  });

  describe('CLI', () => {
    it('export --target web writes a self-contained folder', async () => {
      const out = path.join(dir, 'site');
      const r = await runCli(['export', '--target', 'web', model, '--out', out, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(result.files).toEqual(expect.arrayContaining([
        'index.html', 'app.js', 'config.json', 'model/tiny.onnx', 'ort/ort-wasm-simd-threaded.jsep.wasm', 'samples/digits-256.png',
      ]));
      expect(result.files).not.toContain(BUILD_RECORD);
      expect(result.info).toMatchObject({ channels: 1, job: 'tiny', input: { type: 'float32' } });
      expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).model).toMatchObject({ url: 'model/tiny.onnx' });
      // A second export into the same folder needs --force.
      const again = await runCli(['export', '--target', 'web', model, '--out', out]);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/not empty; choose another --out or pass --force/);
      expect((await runCli(['export', '--target', 'web', model, '--out', out, '--force'])).code).toBe(0);
    }, 60_000);

    it('export prints the model metadata for people', async () => {
      const r = await runCli(['export', '--target', 'web', model, '--out', path.join(dir, 'site2')]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/training job\s+tiny \(0123456789abcdef\)/);
      expect(r.stdout).toMatch(/value range\s+\[0, 1\]/);
      expect(r.stdout).toMatch(/Cross-Origin-Embedder-Policy: require-corp/);
    }, 60_000);

    it.each([
      [['export', 'x.onnx', '--out', 'o'], /Missing required argument: target/],
      [['export', '--target', 'tflite', 'x.onnx', '--out', 'o'], /Invalid values/],
    ])('export usage errors fail with yargs\' message: %j', async (args, message) => {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    });

    it('export refuses a file that is not an ONNX model (exit 2)', async () => {
      const png = path.join(buildDir, 'samples', 'digits-256.png');
      const r = await runCli(['export', '--target', 'web', png, '--out', path.join(dir, 'bad')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/digits-256\.png.*not an ONNX model/);
      expect(fs.existsSync(path.join(dir, 'bad'))).toBe(false);
    });

    it('web --build-only reports the up-to-date build and exits', async () => {
      const r = await runCli(['web', '--build-only', '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ dir: buildDir, built: false });
    });

    it('web serves until SIGINT', async () => {
      const pending = runCli(['web', model, '--port', '0', '--json']);
      let url: string | undefined;
      // The handler prints the URL once the server listens, then waits for a signal.
      for (let i = 0; i < 200 && !url; i++) {
        await new Promise((r) => setTimeout(r, 50));
        url = (process.stdout.write as unknown as jest.Mock).mock?.calls.map((c) => String(c[0])).join('').match(/"url": "([^"]+)"/)?.[1];
      }
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const config = JSON.parse((await request(url!, '/config.json')).body.toString());
      expect(config.model.name).toBe('tiny.onnx');
      process.emit('SIGINT');
      const r = await pending;
      expect(r.code).toBe(0);
    }, 60_000);
  });
});
