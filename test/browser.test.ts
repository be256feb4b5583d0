// The page of `aiayn serve` in a real browser: playwright-core drives Debian's chromium (/usr/bin/chromium,
// headless, WebGPU on SwiftShader) against the server on a tiny random model. It translates a sentence and checks
// the shown text against the API; runs the model in the page on WebGPU (no API calls) and checks it gives the same
// translation; opens one head's heatmap and checks its token labels; checks the positional-encoding view's M_k
// report; takes a screenshot; then, in a page whose navigator.gpu finds no adapter, checks that the page falls
// back to the TypeScript backend with the same translation. Without chromium the test is skipped, or fails when
// AIAYN_REQUIRE_BROWSER=1 (CI).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { setBackend } from '../src/backend/index.js';
import { Bpe } from '../src/data/bpe.js';
import { readMulti30k } from '../src/data/corpora.js';
import { loadModelDir, saveModelDir } from '../src/io/model-dir.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { createServer } from '../src/serve/server.js';
import { axisLabel } from '../web/src/attention-view.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found: install it with 'apt-get install -y chromium'`;
const TIMEOUT = 120_000; // the machine may be busy; a step waits at most this long
/**
 * navigator.gpu with an adapter on a machine without a GPU: --enable-unsafe-webgpu exposes Dawn's SwiftShader
 * (Vulkan on the CPU) adapter, which headless chromium 156 otherwise withholds; --enable-unsafe-swiftshader
 * (Chrome's opt-in to its SwiftShader fallback) is not needed by 156 and kept for builds that ask for it.
 */
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'];

/** Builds the page into a temp dir (so the test sees the current web/src) and a tiny random model dir. */
async function setUp(dir: string): Promise<{ modelDir: string; webRoot: string; sentence: string }> {
  const webRoot = join(dir, 'web');
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), webRoot], { encoding: 'utf8' });
  assert.equal(build.status, 0, `build-web failed: ${build.stderr}`);
  const pairs = (await readMulti30k('train', 'de', 'en')).slice(0, 60);
  const bpe = Bpe.learn(pairs.flatMap((p) => [p.src, p.tgt]), { merges: 150 });
  const config = makeConfig('tiny', { srcVocab: bpe.vocabSize, tgtVocab: bpe.vocabSize, dModel: 32, dFF: 64, h: 2, encoderLayers: 2, decoderLayers: 2, maxLen: 24, seed: 7 });
  const modelDir = join(dir, 'model');
  mkdirSync(modelDir);
  await saveModelDir(modelDir, new Transformer(config), bpe, { srcLang: 'de', tgtLang: 'en' });
  return { modelDir, webRoot, sentence: pairs.map((p) => p.src).find((s) => bpe.encode(s).length < 12)! };
}

if (missing !== undefined && process.env['AIAYN_REQUIRE_BROWSER'] === '1') {
  test('chromium is installed (AIAYN_REQUIRE_BROWSER=1)', () => assert.fail(missing));
} else {
  test('the page translates on the server and in the browser (WebGPU, else ts), draws a head, checks M_k, and screenshots', { skip: missing, timeout: 10 * TIMEOUT }, async () => {
    setBackend('ts'); // the server on the TypeScript backend: the page's WebGPU and ts runs must both match it
    const dir = tempDir('aiayn-browser-');
    const { modelDir, webRoot, sentence } = await setUp(dir);
    const server = createServer(await loadModelDir(modelDir), { modelDir, webRoot });
    const url = await server.listen(0);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', ...WEBGPU_FLAGS] });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      page.setDefaultTimeout(TIMEOUT);
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('console', (msg) => { if (msg.type() === 'error') pageErrors.push(msg.text()); });
      const apiCalls: string[] = [];
      page.on('request', (req) => { if (req.method() === 'POST') apiCalls.push(new URL(req.url()).pathname); });
      const api = async (path: string, body: unknown) => (await fetch(new URL(path, url), { method: 'POST', body: JSON.stringify(body) })).json();

      await page.goto(url);
      await page.getByTestId('source').fill(sentence);
      await page.getByTestId('translate').click();
      await page.locator('[data-testid=translation][data-state=done][data-engine=server]').waitFor();
      const shown = await page.getByTestId('translation').textContent();
      const { translation } = await api('/translate', { text: sentence }) as { translation: string };
      assert.equal(shown, translation, 'the page shows the API translation');
      assert.match(await page.getByTestId('model-info').textContent() ?? '', /de\u2192en, d_model 32, 2 heads, 2\+2 layers, max length 24/);

      apiCalls.length = 0;
      await page.getByTestId('in-browser').check();
      await page.getByTestId('translate').click();
      await page.locator('[data-testid=translation][data-state=done][data-engine=browser]').waitFor();
      const gpuStatus = await page.getByTestId('status').textContent() ?? '';
      assert.equal(await page.getByTestId('translation').getAttribute('data-backend'), 'webgpu', `the page ran on WebGPU: ${gpuStatus}`);
      assert.match(gpuStatus, /^translated in the browser \(WebGPU: [^)]+\) in \d+ ms$/);
      assert.equal(await page.getByTestId('translation').textContent(), translation, 'WebGPU in the page gives the server translation');
      assert.deepEqual(apiCalls, [], 'in-browser inference makes no API calls');
      await page.getByTestId('translate').click(); // again, with the kernels' pipelines compiled
      await page.locator('[data-testid=translation][data-state=done][data-engine=browser]').waitFor();
      assert.equal(await page.getByTestId('translation').textContent(), translation, 'a second WebGPU run gives it again');
      console.log(`page: ${gpuStatus}, then ${await page.getByTestId('status').textContent()}: '${translation}'`);

      await page.getByTestId('attn-kind').selectOption('cross');
      await page.getByTestId('attn-layer').selectOption('1');
      await page.getByTestId('head-1').click();
      const map = page.getByTestId('attn-map');
      assert.deepEqual([await map.getAttribute('data-kind'), await map.getAttribute('data-layer'), await map.getAttribute('data-head')], ['cross', '1', '1']);
      const maps = await api('/attention', { text: sentence }) as { srcTokens: string[]; tgtTokens: string[] };
      assert.deepEqual(await map.locator('.col-label').allTextContents(), maps.srcTokens.map(axisLabel), 'columns: source tokens');
      assert.deepEqual(await map.locator('.row-label').allTextContents(), maps.tgtTokens.map(axisLabel), 'rows: decoder input tokens');
      assert.match(await map.locator('.caption').textContent() ?? '', /^Encoder-decoder attention, layer 2, head 2/);

      await page.getByTestId('mk-k').fill('7');
      const report = page.getByTestId('mk-error');
      assert.match(await report.textContent() ?? '', /max \|PE\(pos \+ 7\) \u2212 M_7 PE\(pos\)\| over pos 0\.\.49 and all 32 dimensions = /);
      const error = Number(await report.getAttribute('data-value'));
      assert.ok(error < 1e-9, `M_7 reproduces PE(pos + 7) to ${error}`);
      assert.equal(await page.locator('[data-testid=pe-table] canvas').count(), 1);

      const shot = join(dir, 'page.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = readFileSync(shot);
      assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')], 'a PNG file');
      const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
      assert.ok(width >= 1000 && height > 1500 && png.length > 30_000, `a full-page screenshot: ${width}x${height}, ${png.length} bytes at ${shot}`);
      console.log(`screenshot: ${shot}`);

      // No adapter (as without the flags above, or on a browser without WebGPU): the TypeScript backend runs.
      const fallback = await browser.newPage();
      fallback.setDefaultTimeout(TIMEOUT);
      fallback.on('pageerror', (err) => pageErrors.push(err.message));
      fallback.on('console', (msg) => { if (msg.type() === 'error') pageErrors.push(msg.text()); });
      await fallback.addInitScript(() => { navigator.gpu.requestAdapter = () => Promise.resolve(null); });
      await fallback.goto(url);
      await fallback.getByTestId('source').fill(sentence);
      await fallback.getByTestId('in-browser').check();
      await fallback.getByTestId('translate').click();
      await fallback.locator('[data-testid=translation][data-state=done][data-engine=browser][data-backend=ts]').waitFor();
      const tsStatus = await fallback.getByTestId('status').textContent() ?? '';
      assert.match(tsStatus, /^translated in the browser \(TypeScript backend; WebGPU unavailable: no adapter found .*\) in \d+ ms$/);
      assert.equal(await fallback.getByTestId('translation').textContent(), translation, 'the TypeScript backend in the page gives the server translation');
      console.log(`page without an adapter: ${tsStatus}`);
      assert.deepEqual(pageErrors, [], 'no errors in the pages');
    } finally {
      await browser.close();
      await server.close();
    }
  });
}
