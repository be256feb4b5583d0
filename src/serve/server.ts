// The HTTP server of `aiayn serve` (node:http): the web page (the esbuild bundle in web/dist), the model's files
// for in-browser inference, and a JSON API over one loaded model:
//   POST /translate {text}        -> {translation}   (greedy decoding, as `aiayn translate` does by default)
//   POST /attention {text, tgt?}  -> AttentionMaps   (tokens and softmax weights per layer and head, §3.2)
//   GET  /model/config.json, /model/tokenizer.json, /model/weights.safetensors (streamed from disk)
// Errors answer JSON {error}: 400 body not JSON, a field missing, empty or of the wrong type; 404 unknown path;
// 405 wrong method (with Allow); 413 body over the byte limit; 422 text (or tgt) with more tokens than the model's
// maximum length (maxLen, end-of-sentence included), since the request is well formed but the model cannot take it;
// 503 when the queue is full; 408 (from node:http) when a client does not send its request in time. Requests reach
// the model one at a time through a promise-chain queue, so concurrent requests wait instead of being dropped, and
// each runs under tidy() and noGrad() so its tensors are freed at once. close() lets the requests in flight finish.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BOS_ID, EOS_ID, PAD_ID } from '../data/bpe.js';
import { translate } from '../decode/translate.js';
import { attentionMaps } from '../inspect/attention.js';
import type { LoadedModel } from '../io/model-dir.js';
import { noGrad } from '../tensor/autograd.js';
import { tidy } from '../tensor/memory.js';

/** The built page: web/dist at the package root (two levels above both src/serve and dist/serve). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** Where the model's files are and how much the server accepts. */
export interface ServeOptions {
  /** The model directory (config.json and tokenizer.json are served from it). */
  modelDir: string;
  /** The weights file to serve (default modelDir/weights.safetensors); pass the --weights file when one was loaded. */
  weightsPath?: string;
  /** The built web page (default web/dist). */
  webRoot?: string;
  /** Largest request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Most requests waiting for the model before new ones get 503 (default 1000). */
  maxQueue?: number;
  /** A client must send its whole request within this time, and its headers within a third of it, or get 408 (default 30 s). */
  requestTimeoutMs?: number;
}

/** A server over one model: listen on a port (0 = any free one), close when done. */
export interface AiaynServer {
  readonly http: Server;
  /** Starts listening; resolves to the URL, e.g. http://127.0.0.1:8080/. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting connections, lets the requests in flight finish (up to graceMs, default 30 s), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/** How long close() waits for a request on a connection it has accepted (requests are read between model jobs). */
const QUIET_MS = 200;

/** An error answered as {error: message} with an HTTP status. */
class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) { super(message); }
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.safetensors': 'application/octet-stream',
};

/** Runs jobs one at a time in arrival order (a promise chain), yielding to the event loop between jobs. */
function serialQueue(maxWaiting: number) {
  let tail: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  return <T>(job: () => T | Promise<T>): Promise<T> => {
    if (waiting >= maxWaiting) return Promise.reject(new HttpError(503, `server busy: ${waiting} requests are already waiting for the model`));
    waiting++;
    const result = tail.then(() => new Promise<void>((done) => setImmediate(done))).then(() => {
      waiting--;
      return job();
    });
    tail = result.catch(() => undefined);
    return result;
  };
}

/** Reads a request body, draining (but not keeping) anything past `limit` bytes. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) throw new HttpError(413, `request body is ${size} bytes, more than the limit of ${limit}`);
  return Buffer.concat(chunks);
}

/** Parses a JSON object body; required fields must be non-empty strings, optional ones strings when present. */
function parseFields(body: Buffer, required: string[], optional: string[] = []): Record<string, string | undefined> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new HttpError(400, 'request body must be a JSON object');
  const obj = json as Record<string, unknown>;
  const out: Record<string, string | undefined> = {};
  for (const name of [...required, ...optional]) {
    const value = obj[name];
    if (value === undefined && optional.includes(name)) continue;
    if (value === undefined) throw new HttpError(400, `missing field '${name}' (expected {"${name}": "..."})`);
    if (typeof value !== 'string') throw new HttpError(400, `field '${name}' must be a string, got ${Array.isArray(value) ? 'array' : typeof value}`);
    if (value.trim() === '' && required.includes(name)) throw new HttpError(400, `field '${name}' is empty`);
    out[name] = value;
  }
  return out;
}

/** Sends a JSON answer. */
function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** True when path is an existing regular file. */
function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** Streams a file from disk (both streams are closed if the client goes away). */
function sendFile(res: ServerResponse, path: string): void {
  res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream', 'Content-Length': statSync(path).size });
  pipeline(createReadStream(path), res, () => undefined);
}

/** Creates the server for a loaded model (not yet listening). */
export function createServer(loaded: LoadedModel, options: ServeOptions): AiaynServer {
  const { model, tokenizer } = loaded;
  const webRoot = resolve(options.webRoot ?? DEFAULT_WEB_ROOT);
  const maxBody = options.maxBodyBytes ?? 2 ** 20;
  const enqueue = serialQueue(options.maxQueue ?? 1000);
  const maxLen = model.config.maxLen;
  const special = { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID };
  const modelFiles = new Map([
    ['/model/config.json', join(options.modelDir, 'config.json')],
    ['/model/tokenizer.json', join(options.modelDir, 'tokenizer.json')],
    ['/model/weights.safetensors', options.weightsPath ?? join(options.modelDir, 'weights.safetensors')],
  ]);

  /** 422 when a text has more tokens (with EOS) than the model's maximum length. */
  const checkLength = (field: string, text: string): void => {
    const tokens = tokenizer.encode(text).length + 1;
    if (tokens > maxLen) throw new HttpError(422, `field '${field}' has ${tokens} tokens (with end-of-sentence), more than the model's maximum length of ${maxLen}`);
  };

  const api = new Map<string, (body: Buffer) => Promise<unknown>>([
    ['/translate', async (body) => {
      const { text } = parseFields(body, ['text']) as { text: string };
      checkLength('text', text);
      return enqueue(async () => ({ translation: (await translate(model, tokenizer, [text], { special }))[0]! }));
    }],
    ['/attention', async (body) => {
      const { text, tgt } = parseFields(body, ['text'], ['tgt']) as { text: string; tgt?: string };
      checkLength('text', text);
      if (tgt !== undefined) checkLength('tgt', tgt);
      return enqueue(() => attentionMaps(model, tokenizer, text, tgt));
    }],
  ]);

  /** The file under webRoot for a URL path, or undefined when the path leaves webRoot. */
  const staticPath = (path: string): string | undefined => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path === '/' ? '/index.html' : path);
    } catch {
      throw new HttpError(400, `malformed URL path: ${path}`);
    }
    const file = resolve(webRoot, '.' + decoded);
    return file.startsWith(webRoot + sep) ? file : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    const handler = api.get(path);
    if (handler !== undefined) {
      if (req.method !== 'POST') throw new HttpError(405, `${path} takes POST with a JSON body, not ${req.method}`, { Allow: 'POST' });
      sendJson(res, 200, await handler(await readBody(req, maxBody)));
      return;
    }
    const file = modelFiles.get(path) ?? staticPath(path);
    if (file === undefined || !isFile(file)) {
      if (path === '/') throw new HttpError(404, `the web page is not built (${join(webRoot, 'index.html')} is missing): run 'npm run build:web'`);
      throw new HttpError(404, `no such path: ${path}`);
    }
    if (req.method !== 'GET') throw new HttpError(405, `${path} takes GET, not ${req.method}`, { Allow: 'GET' });
    sendFile(res, file);
  };

  // Slow or idle clients: timeouts checked every 250 ms (Node's default checks every 30 s).
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const http = createHttpServer({ requestTimeout, headersTimeout: Math.ceil(requestTimeout / 3), connectionsCheckingInterval: 250 }, (req, res) => {
    inFlight++;
    lastStart = performance.now();
    res.once('close', () => inFlight--);
    if (closing) res.shouldKeepAlive = false;
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof HttpError ? err : new HttpError(500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      if (res.headersSent) res.destroy();
      else sendJson(res, e.status, { error: e.message }, e.headers);
    });
  });

  let inFlight = 0;
  let closing = false;
  let lastStart = performance.now();
  return {
    http,
    listen: (port = 8080, host = '127.0.0.1') => new Promise((ready, fail) => {
      http.once('error', fail);
      http.listen(port, host, () => {
        http.off('error', fail);
        const { address, port: bound } = http.address() as AddressInfo;
        ready(`http://${address.includes(':') ? `[${address}]` : address}:${bound}/`);
      });
    }),
    close: async (graceMs = 30_000) => {
      closing = true;
      // Stop accepting, but not as http.close() does: it also drops connections accepted whose request is not parsed
      // yet. Those get QUIET_MS and 5 turns of the event loop (its I/O phase reads them, even after the process
      // was starved of CPU) to deliver it; the close goes on when none is in flight and none has begun since.
      const ended = new Promise<void>((done) => NetServer.prototype.close.call(http, () => done()));
      const deadline = performance.now() + graceMs;
      let quietTurns = 0;
      let seen = lastStart;
      while (performance.now() < deadline && (inFlight > 0 || quietTurns < 5 || performance.now() - lastStart < QUIET_MS)) {
        await new Promise((wake) => setTimeout(wake, 10));
        quietTurns = inFlight === 0 && seen === lastStart ? quietTurns + 1 : 0;
        seen = lastStart;
      }
      http.close(() => undefined); // clears node's timeout checks and closes the idle connections
      http.closeAllConnections();
      await ended;
    },
  };
}
