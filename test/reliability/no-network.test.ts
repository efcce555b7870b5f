/**
 * No network at run time: with every way Node opens a connection or resolves a name blocked in
 * this process (net/tls sockets, dns, http/https, fetch), `onnxtune demo` (shortened) runs end
 * to end, nothing even tries to connect, and no socket file descriptor is left open.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';

// The module objects themselves (namespace imports are read-only copies), so the blocks reach every caller.
/* eslint-disable @typescript-eslint/no-require-imports */
const dns: typeof import('node:dns') = require('node:dns');
const http: typeof import('node:http') = require('node:http');
const https: typeof import('node:https') = require('node:https');
const net: typeof import('node:net') = require('node:net');
const tls: typeof import('node:tls') = require('node:tls');
/* eslint-enable @typescript-eslint/no-require-imports */

type Patch = { target: object; key: string; original: unknown };

/** Socket descriptors of this process (Linux), to see whether native code opened any. */
function socketFds(): Set<string> {
  const dir = '/proc/self/fd';
  if (!fs.existsSync(dir)) return new Set();
  const out = new Set<string>();
  for (const fd of fs.readdirSync(dir)) {
    try {
      const link = fs.readlinkSync(path.join(dir, fd));
      if (link.startsWith('socket:')) out.add(link);
    } catch {
      // the fd closed while we looked
    }
  }
  return out;
}

describe('no network at run time', () => {
  const attempts: string[] = [];
  const patches: Patch[] = [];
  const block = (target: object, key: string, what: string) => {
    const original = (target as Record<string, unknown>)[key];
    patches.push({ target, key, original });
    (target as Record<string, unknown>)[key] = (...args: unknown[]) => {
      attempts.push(`${what}(${args.map((a) => (typeof a === 'string' ? a : typeof a)).join(', ')})`);
      throw new Error(`network access is blocked in this test: ${what}`);
    };
  };

  beforeAll(() => {
    block(net.Socket.prototype, 'connect', 'net.Socket.connect');
    block(net, 'connect', 'net.connect');
    block(net, 'createConnection', 'net.createConnection');
    block(tls, 'connect', 'tls.connect');
    block(dns, 'lookup', 'dns.lookup');
    block(dns, 'resolve', 'dns.resolve');
    block(dns.promises, 'lookup', 'dns.promises.lookup');
    block(dns.promises, 'resolve', 'dns.promises.resolve');
    block(http, 'request', 'http.request');
    block(http, 'get', 'http.get');
    block(https, 'request', 'https.request');
    block(https, 'get', 'https.get');
    if (typeof globalThis.fetch === 'function') block(globalThis, 'fetch', 'fetch');
  });

  afterAll(() => {
    for (const p of patches.reverse()) (p.target as Record<string, unknown>)[p.key] = p.original;
  });

  it('the blocks work', () => {
    expect(() => net.connect(80, 'example.com')).toThrow(/network access is blocked/);
    expect(() => dns.lookup('example.com', () => undefined)).toThrow(/network access is blocked/);
    attempts.length = 0;
  });

  it('`onnxtune demo` (shortened) runs end to end without opening a connection', async () => {
    const out = path.join(tmpDir('onnxtune-offline-'), 'run');
    const before = socketFds();
    const r = await runCli([
      'demo', '--out', out, '--set', 'data.limit=300', '--set', 'train.epochs=1', '--set', 'decoder.widths=[8,8,8]',
      '--set', 'verify.samples=8', '--set', 'device=cpu',
    ]);
    expect(r.stderr).not.toMatch(/onnxtune: error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exported model: .*mnist-denoiser\.onnx/);
    expect(fs.existsSync(path.join(out, 'verify', 'parity.json'))).toBe(true);
    expect(attempts).toEqual([]);
    const opened = [...socketFds()].filter((s) => !before.has(s));
    expect(opened).toEqual([]);
  });
});
