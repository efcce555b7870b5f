/**
 * Where the page is built: dist/web-demo in the package, or a per-user cache folder when the package folder is
 * read-only to the user (a global install: `onnxtune web` failed there with EACCES), or $ONNXTUNE_WEB_BUILD_DIR;
 * a folder that cannot be written is named with the variable that moves it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageOrCacheDirs, webBuildDirs } from '../../src/cli/web/assets';
import { defaultModelDirs } from '../../src/cli/web/default-model';
import { buildWebApp } from '../../src/cli/web/build';
import { InputError } from '../../src/errors';
import { ONNXTUNE_VERSION, PROJECT_ROOT } from '../../src/version';
import { tmpDir } from '../helpers/tmp';

describe('the web page build folder', () => {
  const saved = { build: process.env.ONNXTUNE_WEB_BUILD_DIR, cache: process.env.XDG_CACHE_HOME };
  const inPackage = path.join(PROJECT_ROOT, 'dist', 'web-demo');
  const cache = path.join('/cache-home', 'onnxtune', `web-demo-${ONNXTUNE_VERSION}`);
  beforeEach(() => {
    delete process.env.ONNXTUNE_WEB_BUILD_DIR;
    process.env.XDG_CACHE_HOME = '/cache-home';
  });
  afterEach(() => {
    for (const [k, v] of [['ONNXTUNE_WEB_BUILD_DIR', saved.build], ['XDG_CACHE_HOME', saved.cache]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('is the package folder where it can be written, then the user cache', () => {
    expect(webBuildDirs(() => true)).toEqual([inPackage, cache]);
  });

  it('is the user cache first where the package folder is read-only (the package build is still read)', () => {
    const asked: string[] = [];
    expect(webBuildDirs((dir) => (asked.push(dir), false))).toEqual([cache, inPackage]);
    expect(asked).toEqual([path.dirname(inPackage)]);
  });

  it("the default model (onnxtune web without one) follows the same rule", () => {
    expect(packageOrCacheDirs(path.join(PROJECT_ROOT, 'runs', 'web-default-model'), 'web-default-model', () => false)).toEqual([
      path.join('/cache-home', 'onnxtune', 'web-default-model'),
      path.join(PROJECT_ROOT, 'runs', 'web-default-model'),
    ]);
    expect(defaultModelDirs()[0]).toBe(path.join(PROJECT_ROOT, 'runs', 'web-default-model')); // writable here
  });

  it('is $ONNXTUNE_WEB_BUILD_DIR alone when set', () => {
    process.env.ONNXTUNE_WEB_BUILD_DIR = 'rel/site';
    expect(webBuildDirs()).toEqual([path.resolve('rel/site')]);
  });

  it("a build removes the temporary folders of builds whose process is gone, not those of live ones", async () => {
    const parent = tmpDir();
    const outDir = path.join(parent, 'site');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const names = [`site.tmp-${dead}-abc123`, `site.old-${dead}-17`, 'site.tmp-1-live', 'other.tmp-' + dead + '-x'];
    for (const n of names) fs.mkdirSync(path.join(parent, n, 'ort'), { recursive: true });
    await buildWebApp({ outDir });
    expect(fs.readdirSync(parent).sort()).toEqual(['other.tmp-' + dead + '-x', 'site', 'site.tmp-1-live']);
  });

  it('a folder that cannot be made is named, with the variable to set', async () => {
    const file = path.join(tmpDir(), 'not-a-folder');
    fs.writeFileSync(file, 'x');
    const err = await buildWebApp({ outDir: path.join(file, 'site') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/not-a-folder\/site: cannot build the web page here \(ENOTDIR\); set ONNXTUNE_WEB_BUILD_DIR to a writable folder/);
  });
});
