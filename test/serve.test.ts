// The HTTP server of `aiayn serve` (src/serve/server.ts) on a tiny random model directory: /translate answers what
// translate() gives when called directly; /attention answers every layer and head with shapes that match its
// tokens; bad requests get a 4xx with a JSON message; 50 concurrent requests are all answered; memory stays
// bounded over a few hundred requests; the model files and the page are served; the CLI prints its URL and
// stops cleanly on SIGINT.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BOS_ID, Bpe, EOS_ID, PAD_ID } from '../src/data/bpe.js';
import { readMulti30k } from '../src/data/corpora.js';
import { translate } from '../src/decode/translate.js';
import { attentionMaps } from '../src/inspect/attention.js';
import { loadModelDir, saveModelDir, type LoadedModel } from '../src/io/model-dir.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { createServer, type AiaynServer } from '../src/serve/server.js';
import { pooledStorageBytes } from '../src/tensor/index.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
const dir = tempDir('aiayn-serve-');
const modelDir = join(dir, 'model');
const webRoot = join(dir, 'web');
const MAX_LEN = 24; // short, so that the random model's greedy outputs (which never stop early) stay short
let sentences: string[];
let loaded: LoadedModel;
let server: AiaynServer;
let url: string;

before(async () => {
  const pairs = (await readMulti30k('train', 'de', 'en')).slice(0, 60);
  const bpe = Bpe.learn(pairs.flatMap((p) => [p.src, p.tgt]), { merges: 150 });
  const config = makeConfig('tiny', { srcVocab: bpe.vocabSize, tgtVocab: bpe.vocabSize, dModel: 32, dFF: 64, h: 2, encoderLayers: 2, decoderLayers: 1, maxLen: MAX_LEN, seed: 3 });
  mkdirSync(modelDir);
  await saveModelDir(modelDir, new Transformer(config), bpe, { srcLang: 'de', tgtLang: 'en' });
  mkdirSync(webRoot);
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>test page</title>');
  sentences = pairs.map((p) => p.src).filter((s) => bpe.encode(s).length + 1 <= MAX_LEN).slice(0, 10);
  loaded = await loadModelDir(modelDir);
  server = createServer(loaded, { modelDir, webRoot });
  url = await server.listen(0);
});

after(() => server.close());

/**
 * POSTs a body (JSON-encoded unless a string) and returns the status and parsed JSON answer. node:http, not
 * fetch: the server shares this process, and fetch's 10 s connect timeout can expire while the model works
 * through a queue of 50 on a busy machine; no agent, because a kept-alive socket can be reset by the
 * server's 5 s keep-alive timeout just as the client reuses it. Either would test the client, not the server.
 */
function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try { resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }); } catch (err) { reject(err); }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** What translate() gives for one sentence with the server's settings (greedy). */
async function direct(text: string): Promise<string> {
  return (await translate(loaded.model, loaded.tokenizer, [text], { special: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID } }))[0]!;
}

test('POST /translate answers what translate() gives when called directly', async () => {
  assert.ok(url.startsWith('http://127.0.0.1:'), url);
  for (const text of sentences.slice(0, 4)) {
    const { status, json } = await post('/translate', { text });
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(json, { translation: await direct(text) });
  }
});

test('POST /attention answers tokens and every layer and head, as attentionMaps() gives them', async () => {
  const text = sentences[0]!;
  const { status, json } = await post('/attention', { text });
  assert.equal(status, 200, JSON.stringify(json));
  assert.deepEqual(json, await attentionMaps(loaded.model, loaded.tokenizer, text));
  assert.equal(json.translation, await direct(text));
  const [s, t] = [json.srcTokens.length, json.tgtTokens.length];
  assert.equal(json.srcTokens.at(-1), '<eos>');
  assert.equal(json.tgtTokens[0], '<bos>');
  assert.equal(json.tgtOutTokens.length, t);
  assert.deepEqual([json.heads, json.layers], [2, { encoder: 2, decoder: 1 }]);
  const shape = (maps: number[][][][]) => [maps.length, maps[0]!.length, maps[0]![0]!.length, maps[0]![0]![0]!.length];
  assert.deepEqual(shape(json.encoderSelf), [2, 2, s, s]);
  assert.deepEqual(shape(json.decoderSelf), [1, 2, t, t]);
  assert.deepEqual(shape(json.cross), [1, 2, t, s]);
  for (const row of json.cross[0][1]) assert.ok(Math.abs(row.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-5, 'each row of weights sums to 1');

  const given = await post('/attention', { text, tgt: 'Two dogs.' });
  assert.equal(given.status, 200, JSON.stringify(given.json));
  assert.equal(given.json.translation, 'Two dogs.');
  assert.deepEqual(given.json.tgtTokens, ['<bos>', ...loaded.tokenizer.encode('Two dogs.').map((id) => loaded.tokenizer.tokenText(id))]);
});

test('bad requests get a 4xx with a JSON message', async () => {
  const tooLong = Array.from({ length: MAX_LEN }, (_, i) => `Wort${i}`).join(' ');
  const cases: Array<[string, unknown, number, RegExp]> = [
    ['/translate', 'not json', 400, /not valid JSON/],
    ['/translate', '[1, 2]', 400, /must be a JSON object/],
    ['/translate', {}, 400, /missing field 'text'/],
    ['/translate', { text: 5 }, 400, /field 'text' must be a string, got number/],
    ['/translate', { text: '  ' }, 400, /field 'text' is empty/],
    ['/attention', { text: 'Ein Hund.', tgt: ['x'] }, 400, /field 'tgt' must be a string, got array/],
    ['/translate', { text: tooLong }, 422, new RegExp(`field 'text' has \\d+ tokens .*more than the model's maximum length of ${MAX_LEN}`)],
    ['/attention', { text: 'Ein Hund.', tgt: tooLong }, 422, /field 'tgt' has \d+ tokens/],
    ['/translate', JSON.stringify({ text: 'x'.repeat(2 ** 20) }), 413, /request body is \d+ bytes, more than the limit of 1048576/],
  ];
  for (const [path, body, status, message] of cases) {
    const r = await post(path, body);
    assert.equal(r.status, status, `${path} ${String(body).slice(0, 40)}: ${JSON.stringify(r.json)}`);
    assert.match(r.json.error, message);
  }
  const getTranslate = await fetch(new URL('/translate', url));
  assert.equal(getTranslate.status, 405);
  assert.equal(getTranslate.headers.get('allow'), 'POST');
  assert.match((await getTranslate.json()).error, /\/translate takes POST/);
  const postPage = await post('/', { text: 'x' });
  assert.deepEqual([postPage.status, postPage.json.error], [405, '/ takes GET, not POST']);
  const unknown = await fetch(new URL('/nope', url));
  assert.deepEqual([unknown.status, (await unknown.json()).error], [404, 'no such path: /nope']);
});

test('50 concurrent requests are queued and all answered', async () => {
  const expected = new Map<string, string>();
  for (const text of sentences) expected.set(text, await direct(text));
  const texts = Array.from({ length: 50 }, (_, i) => sentences[i % sentences.length]!);
  const answers = await Promise.all(texts.map((text) => post('/translate', { text })));
  answers.forEach(({ status, json }, i) => {
    assert.equal(status, 200, `request ${i}: ${JSON.stringify(json)}`);
    assert.equal(json.translation, expected.get(texts[i]!), `request ${i}`);
  });
});

test('memory stays bounded over a few hundred requests: every tensor goes back to the pool', async () => {
  const round = () => Promise.all(sentences.map((text, i) => post(i % 2 === 0 ? '/translate' : '/attention', { text })));
  await round();
  const pooled = pooledStorageBytes();
  const rss = process.memoryUsage().rss;
  for (let i = 0; i < 20; i++) {
    for (const { status } of await round()) assert.equal(status, 200);
  }
  assert.equal(pooledStorageBytes(), pooled, 'the storage pool holds the same buffers after 200 more requests (nothing leaked out of tidy)');
  const grown = (process.memoryUsage().rss - rss) / 2 ** 20;
  assert.ok(grown < 64, `RSS grew by ${grown.toFixed(1)} MiB over 200 requests`);
});

test('serves the model files for in-browser inference and the page, and nothing outside the web root', async () => {
  for (const name of ['config.json', 'tokenizer.json', 'weights.safetensors']) {
    const res = await fetch(new URL(`/model/${name}`, url));
    assert.equal(res.status, 200, name);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), new Uint8Array(readFileSync(join(modelDir, name))), name);
  }
  const page = await fetch(url);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(await page.text(), /<title>test page<\/title>/);
  const status = await new Promise<number>((done, fail) => {
    request(new URL(url), { path: '/..%2Fmodel%2Fconfig.json' }, (res) => { res.resume(); done(res.statusCode!); }).on('error', fail).end();
  });
  assert.equal(status, 404);
});

test('aiayn serve prints its URL, answers, and stops cleanly on SIGINT; bad options are errors', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', SCRIPT, 'serve', '--model', modelDir, '--port', '0'], { cwd: ROOT });
  let out = '';
  child.stdout.setEncoding('utf8');
  const served = await new Promise<string>((done, fail) => {
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const m = /aiayn serve: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m !== null) done(m[1]!);
    });
    child.on('exit', (code) => fail(new Error(`serve exited with ${code} before printing its URL: ${out}`)));
  });
  const res = await fetch(new URL('/translate', served), { method: 'POST', body: JSON.stringify({ text: sentences[0] }) });
  assert.deepEqual(await res.json(), { translation: await direct(sentences[0]!) });
  const code = await new Promise<number | null>((done) => { child.on('exit', done); child.kill('SIGINT'); });
  assert.equal(code, 0);
  assert.match(out, /aiayn serve: stopped\n$/);

  const help = spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT, 'serve', '--help'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /POST \/translate/);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT, 'serve', '--model', modelDir, '--port', '70000'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--port must be an integer in 0\.\.65535, got 70000/);
});
