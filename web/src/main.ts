// The page of `aiayn serve`: type a sentence, translate it on the server or in this page (WebGPU when the browser
// has an adapter, else the TypeScript backend; weights fetched once), click through the attention of every layer
// and head (§3.2), and look at the sinusoidal positional encodings (§3.5).

import { attentionView } from './attention-view.js';
import { fetchModelConfig, loadBrowserEngine, serverEngine, type Engine } from './engine.js';
import { showPositional } from './positional-view.js';

/** The element with this id (the page's HTML defines them all). */
function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`page element #${id} is missing`);
  return e as T;
}

const source = byId<HTMLTextAreaElement>('source');
const inBrowser = byId<HTMLInputElement>('in-browser');
const output = byId<HTMLElement>('translation');
const status = byId<HTMLElement>('status');
const attention = attentionView({ kind: byId('attn-kind'), layer: byId('attn-layer'), heads: byId('attn-heads'), map: byId('attn-map') });
let browserEngine: Promise<Engine> | undefined;

/** The engine the toggle selects; the in-browser one is loaded on first use. */
function currentEngine(): Promise<Engine> {
  if (!inBrowser.checked) return Promise.resolve(serverEngine);
  if (browserEngine === undefined) {
    status.textContent = 'loading the model into the page\u2026';
    browserEngine = loadBrowserEngine();
    browserEngine.catch(() => { browserEngine = undefined; });
  }
  return browserEngine;
}

/** Translates the source text and draws its attention; marks #translation with data-state, -engine and -backend. */
async function run(): Promise<void> {
  const text = source.value;
  if (text.trim() === '') { status.textContent = 'type a sentence first'; return; }
  output.dataset['state'] = 'busy';
  try {
    const engine = await currentEngine();
    status.textContent = `translating ${engine.where}\u2026`;
    await new Promise((paint) => setTimeout(paint, 0));
    const start = performance.now();
    const maps = await engine.attention(text);
    output.textContent = maps.translation;
    attention.show(maps);
    status.textContent = `translated ${engine.where} in ${Math.round(performance.now() - start)} ms`;
    Object.assign(output.dataset, { state: 'done', engine: engine.name, backend: engine.backend });
  } catch (err) {
    status.textContent = `error: ${err instanceof Error ? err.message : String(err)}`;
    output.dataset['state'] = 'error';
  }
}

byId('translate').addEventListener('click', () => { void run(); });
source.addEventListener('keydown', (event) => { if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void run(); });

fetchModelConfig().then((config) => {
  const m = config.model;
  const langs = config.srcLang !== undefined && config.tgtLang !== undefined ? `${config.srcLang}\u2192${config.tgtLang}, ` : '';
  byId('model-info').textContent = `model: ${langs}d_model ${m.dModel}, ${m.h} heads, ${m.encoderLayers}+${m.decoderLayers} layers, max length ${m.maxLen}`;
  showPositional({ table: byId('pe-table'), similarity: byId('pe-similarity'), k: byId('mk-k'), matrix: byId('mk-matrix'), error: byId('mk-error') }, m.dModel);
}, (err: unknown) => {
  byId('model-info').textContent = `cannot read the model config: ${err instanceof Error ? err.message : String(err)}`;
});
