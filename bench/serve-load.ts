// Load on `aiayn serve` (a spawned server on 127.0.0.1 with a tiny random model): C concurrent clients send R
// requests each, a seeded mix of translate, attention, bad JSON, oversized bodies, slow clients (whole body
// trickled in, well within the timeout), stalled clients (half a body, then nothing) and idle connections.
// Reports failed well-formed requests (must be 0), bad requests not answered with a 4xx (must be 0), p50/p99
// latency of translate and attention, and the server's resident memory after 10% and after all of the requests.
// Then path traversal attempts (all must be refused) and SIGTERM with requests in flight (all must be answered).
//
//   npm run bench:serve [-- --clients 200 --requests 50 --seed 1]      (the short form: test/serve-load.test.ts)

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bpe } from '../src/data/bpe.js';
import { readMulti30k } from '../src/data/corpora.js';
import { saveModelDir } from '../src/io/model-dir.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { Rng } from '../src/tensor/random.js';

/** The load. */
export interface LoadOptions { clients: number; requests: number; seed: number; /** The server's --request-timeout, seconds (default 10). */ requestTimeout?: number; }

/** What the load test measured. */
export interface LoadReport {
  requests: number;
  /** Well-formed requests by kind, and those not answered 200 (with why). */
  wellFormed: Record<string, number>;
  failed: string[];
  /** Bad requests by kind, and those not refused with a 4xx (or, for idle connections, closed by the server). */
  bad: Record<string, number>;
  mishandled: string[];
  p50Ms: number;
  p99Ms: number;
  /** Server resident memory after 10% of the requests and after all, MiB. */
  rssEarlyMb: number;
  rssEndMb: number;
  /** Path traversal attempts and the statuses they got. */
  traversal: Record<string, number>;
  /** Requests in flight at SIGTERM, how many got 200, and the server's exit code. */
  shutdown: { inFlight: number; answered: number; exitCode: number | null };
  seconds: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
const MAX_LEN = 24;
const KINDS = ['translate', 'attention', 'bad-json', 'oversized', 'slow', 'stalled', 'idle'] as const;
type Kind = (typeof KINDS)[number];
const WEIGHTS = [45, 20, 15, 5, 8, 4, 3]; // percent

/** A tiny random model in `dir`; returns sentences short enough for it. */
async function makeModel(dir: string): Promise<string[]> {
  const pairs = (await readMulti30k('train', 'de', 'en')).slice(0, 60);
  const bpe = Bpe.learn(pairs.flatMap((p) => [p.src, p.tgt]), { merges: 150 });
  mkdirSync(dir);
  const config = makeConfig('tiny', { srcVocab: bpe.vocabSize, tgtVocab: bpe.vocabSize, dModel: 32, dFF: 64, h: 2, encoderLayers: 2, decoderLayers: 1, maxLen: MAX_LEN, seed: 3 });
  await saveModelDir(dir, new Transformer(config), bpe);
  return pairs.map((p) => p.src).filter((s) => bpe.encode(s).length + 1 <= MAX_LEN);
}

/** Starts `aiayn serve`; resolves to the child and its URL. */
async function startServer(modelDir: string, requestTimeout: number): Promise<{ child: ChildProcess; url: URL }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', SCRIPT, 'serve', '--model', modelDir, '--port', '0', '--request-timeout', String(requestTimeout)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<URL>((done, fail) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /aiayn serve: (http:\/\/\S+\/)/.exec(out);
      if (m !== null) done(new URL(m[1]!));
    });
    child.once('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
  });
  return { child, url };
}

/** Resident memory of a process, MiB (Linux /proc). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

/** One HTTP exchange over a raw socket, the body sent in `chunks` with `gapMs` between them; resolves to the status (0: closed without one). */
function rawRequest(url: URL, method: string, path: string, chunks: string[], declared: number, gapMs: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (s: string) => { answer += s; });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on('connect', async () => {
      if (method === '') return; // an idle connection: nothing is ever sent
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\nConnection: close\r\n\r\n`);
      for (const c of chunks) {
        await new Promise((r) => setTimeout(r, gapMs));
        if (!socket.destroyed) socket.write(c);
      }
    });
  });
}

/** POSTs a body (on a fresh connection unless an agent is given); resolves to the status and the parsed JSON answer; `sent` runs once the body is written. */
function post(url: URL, path: string, body: string | Buffer, sent?: () => void, agent: Agent | false = false): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try { resolve({ status: res.statusCode!, json: JSON.parse(text) }); } catch { reject(new Error(`status ${res.statusCode} with a body that is not JSON: ${JSON.stringify(text.slice(0, 80))}`)); }
      });
    });
    req.on('error', reject);
    if (sent !== undefined) req.once('finish', sent);
    req.end(body);
  });
}

/** GETs a raw path; resolves to the status. */
function getStatus(url: URL, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { path, agent: false }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject).end();
  });
}

/** Runs the load test. */
export async function serveLoad(options: LoadOptions): Promise<LoadReport> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-serve-load-'));
  const sentences = await makeModel(join(dir, 'model'));
  writeFileSync(join(dir, 'secret.txt'), 'not for the web');
  const requestTimeout = options.requestTimeout ?? 10;
  const { child, url } = await startServer(join(dir, 'model'), requestTimeout);
  const report: LoadReport = {
    requests: 0, wellFormed: {}, failed: [], bad: {}, mishandled: [], p50Ms: 0, p99Ms: 0, rssEarlyMb: 0, rssEndMb: 0, traversal: {},
    shutdown: { inFlight: 0, answered: 0, exitCode: null }, seconds: 0,
  };
  const latencies: number[] = [];
  const total = options.clients * options.requests;
  const early = Math.ceil(total / 10);
  const count = (table: Record<string, number>, key: string) => { table[key] = (table[key] ?? 0) + 1; };

  /** One request of a kind; records what happened. */
  const one = async (kind: Kind, rng: Rng): Promise<void> => {
    const text = sentences[rng.int(sentences.length)]!;
    const t0 = performance.now();
    const good = kind === 'translate' || kind === 'attention' || kind === 'slow';
    let status: number;
    try {
      if (kind === 'translate' || kind === 'attention') {
        const r = await post(url, `/${kind}`, JSON.stringify({ text }));
        status = r.status;
      } else if (kind === 'bad-json') {
        status = (await post(url, '/translate', pickBad(rng, text))).status;
      } else if (kind === 'oversized') {
        status = (await post(url, '/translate', Buffer.alloc(2 ** 20 + 1 + rng.int(2 ** 20), 0x20))).status;
      } else if (kind === 'slow') {
        const body = JSON.stringify({ text });
        const parts = [0, 1, 2, 3].map((i) => body.slice((i * body.length) >> 2, ((i + 1) * body.length) >> 2));
        status = await rawRequest(url, 'POST', '/translate', parts, Buffer.byteLength(body), 50);
      } else if (kind === 'stalled') {
        status = await rawRequest(url, 'POST', '/translate', ['{"text": "Ein'], 100, 10);
      } else {
        status = await rawRequest(url, '', '', [], 0, 0);
      }
    } catch (err) {
      status = -1;
      (good ? report.failed : report.mishandled).push(`${kind}: ${(err as Error).message}`);
    }
    report.requests++;
    if (report.requests === early) report.rssEarlyMb = rssMb(child.pid!);
    if (status === -1) return;
    if (good) {
      count(report.wellFormed, kind);
      if (status !== 200) report.failed.push(`${kind}: status ${status}`);
      else if (kind !== 'slow') latencies.push(performance.now() - t0); // a slow client's time is its own
    } else {
      count(report.bad, kind);
      const refused = status >= 400 && status < 500;
      if (!(refused || (kind === 'idle' && status === 0))) report.mishandled.push(`${kind}: status ${status}`);
    }
  };

  await Promise.all(Array.from({ length: options.clients }, async (_, c) => {
    const rng = new Rng(options.seed * 100_003 + c);
    for (let i = 0; i < options.requests; i++) await one(pickKind(rng), rng);
  }));
  report.rssEndMb = rssMb(child.pid!);
  latencies.sort((a, b) => a - b);
  report.p50Ms = latencies[Math.floor(0.5 * (latencies.length - 1))] ?? NaN;
  report.p99Ms = latencies[Math.floor(0.99 * (latencies.length - 1))] ?? NaN;

  for (const path of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/..%5csecret.txt', '/%252e%252e/secret.txt', '//../secret.txt', '/model/../../secret.txt', '/%2e%2e/%2e%2e/etc/passwd', '/index.html%00', `/${'..%2f'.repeat(8)}etc/passwd`, '/%c0%ae%c0%ae/secret.txt']) {
    count(report.traversal, String(await getStatus(url, path)));
  }

  // SIGTERM once 30 requests are written on 30 connections the server has accepted (each answered a GET first; a
  // connection still in the kernel's accept queue when the listening socket closes is refused, which no server
  // can prevent).
  const agent = new Agent({ keepAlive: true, maxSockets: 30 });
  await Promise.all(Array.from({ length: 30 }, () => new Promise<void>((done, fail) => {
    request(new URL('/model/config.json', url), { agent }, (res) => { res.resume(); res.on('end', done); }).on('error', fail).end();
  })));
  let sent = 0;
  let allSent: () => void;
  const written = new Promise<void>((done) => { allSent = done; });
  const burst = Array.from({ length: 30 }, (_, i) => post(url, '/translate', JSON.stringify({ text: sentences[i % sentences.length] }), () => { if (++sent === 30) allSent(); }, agent));
  await written;
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGTERM');
  const answers = await Promise.allSettled(burst);
  agent.destroy();
  report.shutdown = { inFlight: burst.length, answered: answers.filter((a) => a.status === 'fulfilled' && a.value.status === 200).length, exitCode: await exited };
  rmSync(dir, { recursive: true, force: true });
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** A request kind, by the mix's weights. */
function pickKind(rng: Rng): Kind {
  let u = rng.int(100);
  for (let i = 0; i < KINDS.length; i++) if ((u -= WEIGHTS[i]!) < 0) return KINDS[i]!;
  return 'translate';
}

/** A malformed body: not JSON, not an object, a missing, empty or mistyped field. */
function pickBad(rng: Rng, text: string): string {
  const bodies = [`{"text": "${text}"`, 'null', '[1, 2]', '{}', '{"text": ""}', '{"text": 5}', `{"text": ["${text}"]}`, '\u0000\u00ff', `{"tgt": "${text}"}`];
  return bodies[rng.int(bodies.length)]!;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string, fallback: number) => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? fallback : Number(process.argv[i + 1]); };
  const report = await serveLoad({ clients: arg('clients', 200), requests: arg('requests', 50), seed: arg('seed', 1) });
  console.log(JSON.stringify(report, null, 2));
  const growth = (report.rssEndMb - report.rssEarlyMb) / report.rssEarlyMb;
  console.log(`p50 ${report.p50Ms.toFixed(1)} ms, p99 ${report.p99Ms.toFixed(1)} ms; RSS ${report.rssEarlyMb.toFixed(1)} -> ${report.rssEndMb.toFixed(1)} MiB (${(100 * growth).toFixed(1)}%)`);
  process.exitCode = report.failed.length === 0 && report.mishandled.length === 0 && report.shutdown.answered === report.shutdown.inFlight && report.shutdown.exitCode === 0 ? 0 : 1;
}
