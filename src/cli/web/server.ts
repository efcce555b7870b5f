/**
 * A small static file server for the demo, bound to 127.0.0.1 only: GET/HEAD of files under one
 * root folder plus a few mapped URLs (the model file, a generated config.json), with the MIME
 * types browsers insist on (application/wasm for streaming compilation, text/javascript for
 * modules) and the COOP/COEP headers that make the page cross-origin isolated, so
 * onnxruntime-web may use threads (SharedArrayBuffer).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { log } from '../../log';

/** Content types by file extension; anything else is application/octet-stream. */
export const MIME_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
});

/** Headers on every response: cross-origin isolation (threads) and no caching of a dev server. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
});

/** A URL served from somewhere other than the root: a file on disk or fixed bytes. */
export type MappedResource = { file: string } | { body: string | Uint8Array; type: string };

/** Options of {@link serveStatic}. */
export interface ServeOptions {
  /** The folder served at `/`. */
  root: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** URL path (e.g. `/config.json`) → resource; checked before the root folder. */
  mapped?: Record<string, MappedResource>;
  /** Send COOP/COEP (default true). */
  isolation?: boolean;
}

/** A running server. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export const mimeType = (file: string): string => MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

/**
 * The file under `root` for a URL path, or undefined when it escapes the root or is not a file.
 * `/` and folder paths map to their index.html.
 */
export function resolveUnderRoot(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const base = path.resolve(root);
  let file = path.resolve(base, '.' + path.posix.normalize('/' + decoded));
  if (file !== base && !file.startsWith(base + path.sep)) return undefined;
  try {
    if (fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    return fs.statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts the server on 127.0.0.1.
 * @throws Error when the port is taken (EADDRINUSE) or the root is not a folder
 */
export async function serveStatic(opts: ServeOptions): Promise<StaticServer> {
  if (!fs.statSync(opts.root, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${opts.root} is not a folder`);
  const extra = opts.isolation === false ? { 'Cache-Control': 'no-cache' } : ISOLATION_HEADERS;
  const mapped = opts.mapped ?? {};
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { ...extra, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(405, 'method not allowed\n');
      return;
    }
    const urlPath = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const entry = mapped[urlPath];
    if (entry && 'body' in entry) {
      const body = typeof entry.body === 'string' ? Buffer.from(entry.body) : entry.body;
      res.writeHead(200, { ...extra, 'Content-Type': entry.type, 'Content-Length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const file = entry ? entry.file : resolveUnderRoot(opts.root, urlPath);
    const stat = file ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
    if (!file || !stat?.isFile()) {
      send(404, `not found: ${urlPath}\n`);
      return;
    }
    res.writeHead(200, { ...extra, 'Content-Type': mimeType(file), 'Content-Length': stat.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    fs.createReadStream(file)
      .on('error', (err) => {
        log.warn(`web server: reading ${file} failed: ${err.message}`);
        res.destroy(err);
      })
      .pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
