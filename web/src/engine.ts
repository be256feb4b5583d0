// Where the page's translations and attention maps come from: the server's JSON API (`aiayn serve`), or the
// model itself running in this page, with weights fetched once from /model/*, on the WebGPU backend when
// navigator.gpu gives an adapter, else on the TypeScript backend.

import { initBackend, setBackend, type AdapterReport, type Backend } from '../../src/backend/index.js';
import { Bpe } from '../../src/data/bpe.js';
import { attentionMaps, type AttentionMaps } from '../../src/inspect/attention.js';
import type { ModelDirConfig } from '../../src/io/model-dir.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { validateConfig } from '../../src/models/config.js';
import { Transformer } from '../../src/models/transformer.js';

/** Translates one sentence (greedy) and returns the attention maps over it and its translation. */
export interface Engine {
  readonly name: 'server' | 'browser';
  /** Where it runs, for the status line: 'on the server', 'in the browser (WebGPU: <adapter>)', ... */
  readonly where: string;
  /** The backend that runs the model ('webgpu' or 'ts' in the browser). */
  readonly backend: 'server' | 'webgpu' | 'ts';
  attention(text: string): Promise<AttentionMaps>;
}

/** POSTs JSON to the server and returns its answer, or throws its {error} message. */
async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json() as T & { error?: string };
  if (!res.ok) throw new Error(json.error ?? `${path}: HTTP ${res.status}`);
  return json;
}

/** The engine that asks the server. */
export const serverEngine: Engine = {
  name: 'server',
  where: 'on the server',
  backend: 'server',
  attention: (text) => post<AttentionMaps>('/attention', { text }),
};

/** Fetches a model file, naming it when the server does not have it. */
async function fetchOk(path: string): Promise<Response> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res;
}

/** The model's config.json (the page also needs it for the positional-encoding view). */
export async function fetchModelConfig(): Promise<ModelDirConfig> {
  const config = await (await fetchOk('/model/config.json')).json() as ModelDirConfig;
  if (config.format !== 'aiayn-model' || typeof config.model !== 'object') throw new Error('/model/config.json: not an aiayn model config');
  validateConfig(config.model);
  return config;
}

/** The adapter's description, else whatever else it says about itself (browsers may hide some fields). */
function adapterName(gpu: Backend & { adapter: AdapterReport }): string {
  const { description, vendor, architecture, software } = gpu.adapter;
  const name = description || [vendor, architecture].filter((s) => s !== '').join(' ') || 'adapter details hidden by the browser';
  return software ? `${name}, software` : name;
}

/** Makes WebGPU the current backend when navigator.gpu gives an adapter, else the TypeScript backend; says which. */
async function pickBackend(): Promise<Pick<Engine, 'backend' | 'where'>> {
  try {
    const gpu = setBackend(await initBackend('webgpu')) as Backend & { adapter: AdapterReport };
    return { backend: 'webgpu', where: `in the browser (WebGPU: ${adapterName(gpu)})` };
  } catch (err) {
    setBackend('ts');
    return { backend: 'ts', where: `in the browser (TypeScript backend; ${err instanceof Error ? err.message : String(err)})` };
  }
}

/** Loads config, tokenizer and weights from the server and returns an engine that runs them in this page. */
export async function loadBrowserEngine(): Promise<Engine> {
  const { backend, where } = await pickBackend();
  const [config, tokenizerJson, weights] = await Promise.all([
    fetchModelConfig(),
    fetchOk('/model/tokenizer.json').then((r) => r.json() as Promise<unknown>),
    fetchOk('/model/weights.safetensors').then((r) => r.arrayBuffer()),
  ]);
  const tokenizer = Bpe.fromJSON(tokenizerJson, '/model/tokenizer.json');
  const { srcVocab, tgtVocab, maxLen } = config.model;
  if (tokenizer.vocabSize !== srcVocab || tokenizer.vocabSize !== tgtVocab) {
    throw new Error(`tokenizer has ${tokenizer.vocabSize} tokens but config.json says srcVocab ${srcVocab}, tgtVocab ${tgtVocab}`);
  }
  const model = new Transformer(config.model);
  model.loadStateDict(readSafetensors(new Uint8Array(weights), '/model/weights.safetensors').tensors, { strict: true });
  model.eval();
  return {
    name: 'browser',
    backend,
    where,
    attention: async (text) => {
      // The server's 422: a text may have at most maxLen tokens, end-of-sentence included.
      const tokens = tokenizer.encode(text).length + 1;
      if (tokens > maxLen) throw new Error(`the text has ${tokens} tokens (with end-of-sentence), more than the model's maximum length of ${maxLen}`);
      return attentionMaps(model, tokenizer, text);
    },
  };
}
