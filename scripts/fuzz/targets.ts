// The readers the fuzzer feeds: each builds valid files once, then per case mutates them (from a seeded
// generator) and runs the reader. A case ends "valid" (the reader accepted it and the result works), "clean"
// (an Error whose message names the file, or for HTTP a 4xx with a JSON error) or "crash" (anything else).

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BOS_ID, Bpe, EOS_ID, PAD_ID } from '../../src/data/bpe.js';
import { readParallel } from '../../src/data/files.js';
import { loadEncoderTokenizer } from '../../src/data/encoder-tokenizer.js';
import { Gpt2Tokenizer } from '../../src/data/gpt2.js';
import { RobertaTokenizer } from '../../src/data/roberta-bpe.js';
import { translate } from '../../src/decode/translate.js';
import { loadModelDir, saveModelDir } from '../../src/io/model-dir.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { checkFiniteWeights } from '../../src/io/validate.js';
import { makeConfig } from '../../src/models/config.js';
import { Transformer } from '../../src/models/transformer.js';
import { createServer } from '../../src/serve/server.js';
import type { Rng } from '../../src/tensor/random.js';
import { concat, mutateBytes, mutateJson, pick, type Mutant } from './mutate.js';

/** How a case ended. */
export type Outcome = { kind: 'valid' | 'clean' | 'crash'; detail: string };

/** A reader under test: `setup` runs once per worker in its own directory; `run` runs one case there. */
export interface Target {
  readonly name: string;
  setup(dir: string): Promise<(rng: Rng, caseDir: string) => Promise<{ mutation: string; outcome: Outcome }>>;
}

const SENTENCES = ['Ein Mann läuft über die Straße.', 'Zwei Hunde spielen im Schnee.', 'A man runs across the street.', 'Two dogs play in the snow.', 'Eine Frau mit Hut.', 'A woman with a hat.'];

/** Runs a file reader: resolving is valid; an Error naming one of `files` is clean; anything else a crash. */
async function readerOutcome(files: readonly string[], read: () => unknown): Promise<Outcome> {
  try {
    await read();
    return { kind: 'valid', detail: '' };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const named = err instanceof Error && files.some((f) => message.includes(f));
    return { kind: named ? 'clean' : 'crash', detail: `${err instanceof Error ? err.name : typeof err}: ${message.slice(0, 300)}` };
  }
}

/** A tiny model directory (dModel 8) with a tokenizer learned from a few sentences. */
async function tinyModelDir(dir: string, dModel = 8): Promise<Bpe> {
  const bpe = Bpe.learn(SENTENCES, { merges: 20 });
  mkdirSync(dir, { recursive: true });
  const config = makeConfig('tiny', { srcVocab: bpe.vocabSize, tgtVocab: bpe.vocabSize, dModel, dFF: 16, h: 2, encoderLayers: 1, decoderLayers: 1, maxLen: 16, seed: 1 });
  await saveModelDir(dir, new Transformer(config), bpe);
  return bpe;
}

/** Loads a model directory and translates a sentence with it (a loaded model must work). */
async function loadAndTranslate(dir: string): Promise<void> {
  const { model, tokenizer } = await loadModelDir(dir);
  translate(model, tokenizer, [SENTENCES[0]!], { special: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID }, maxLenB: 8 });
}

/** A safetensors file with every dtype the reader knows (F32, F16, BF16, I32, I64) and metadata. */
function seedSafetensors(): Uint8Array {
  const tensors: Array<[string, string, number[], Uint8Array]> = [
    ['weight', 'F32', [3, 4], new Uint8Array(Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5).buffer)],
    ['half', 'F16', [5], new Uint8Array(Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000]).buffer)],
    ['brain', 'BF16', [2, 2], new Uint8Array(Uint16Array.from([0x3f80, 0xbf80, 0x4049, 0x0000]).buffer)],
    ['ids', 'I32', [4], new Uint8Array(Int32Array.from([0, -1, 7, 2 ** 31 - 1]).buffer)],
    ['long', 'I64', [3], new Uint8Array(BigInt64Array.from([0n, -5n, 123456789n]).buffer)],
    ['empty', 'F32', [0, 3], new Uint8Array(0)],
  ];
  const header: Record<string, unknown> = { __metadata__: { format: 'fuzz' } };
  let offset = 0;
  for (const [name, dtype, shape, data] of tensors) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.length] };
    offset += data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(json.length), true);
  return concat(length, json, ...tensors.map((t) => t[3]));
}

/** Structure-aware safetensors mutations: the length field, the header's JSON, non-finite payloads. */
function mutateSafetensors(rng: Rng, bytes: Uint8Array): Mutant {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = bytes.subarray(8, 8 + headerLength);
  const data = bytes.subarray(8 + headerLength);
  switch (rng.int(4)) {
    case 0: {
      const value = pick(rng, [0n, 1n, BigInt(headerLength - 1), BigInt(headerLength + 1), BigInt(bytes.length), 2n ** 63n, 2n ** 64n - 1n, 100_000_001n, BigInt(rng.nextUint32())]);
      const b = Uint8Array.from(bytes);
      new DataView(b.buffer).setBigUint64(0, value, true);
      return { bytes: b, mutation: `header length = ${value}` };
    }
    case 1: {
      const m = mutateJson(rng, header);
      const length = new Uint8Array(8);
      new DataView(length.buffer).setBigUint64(0, BigInt(m.bytes.length), true);
      return { bytes: concat(length, m.bytes, data), mutation: `header: ${m.mutation}` };
    }
    case 2: {
      const b = Uint8Array.from(bytes);
      const v = new DataView(b.buffer);
      const at = 8 + headerLength + 4 * rng.int(12); // inside 'weight' (F32)
      const value = pick(rng, [NaN, Infinity, -Infinity]);
      v.setFloat32(at, value, true);
      return { bytes: b, mutation: `weight value = ${value}` };
    }
    default: return mutateBytes(rng, bytes);
  }
}

/** Mutates a file in place (structure-aware half of the time when a JSON or safetensors mutation is given). */
function mutateFile(rng: Rng, path: string, seed: Uint8Array, aware?: (rng: Rng, b: Uint8Array) => Mutant): string {
  const m = aware !== undefined && rng.int(2) === 0 ? aware(rng, seed) : mutateBytes(rng, seed);
  writeFileSync(path, m.bytes);
  return m.mutation;
}

const safetensors: Target = {
  name: 'safetensors',
  async setup() {
    const seed = seedSafetensors();
    return async (rng, dir) => {
      const path = join(dir, 'weights.safetensors');
      const mutation = mutateFile(rng, path, seed, mutateSafetensors);
      return { mutation, outcome: await readerOutcome([path], () => checkFiniteWeights(loadSafetensors(path).tensors, path)) };
    };
  },
};

const tokenizerBpe: Target = {
  name: 'tokenizer-bpe',
  async setup(dir) {
    const bpe = Bpe.learn(SENTENCES, { merges: 30 });
    await bpe.save(join(dir, 'tokenizer.json'));
    const seed = readFileSync(join(dir, 'tokenizer.json'));
    return async (rng, caseDir) => {
      const path = join(caseDir, 'tokenizer.json');
      const mutation = mutateFile(rng, path, seed, mutateJson);
      return {
        mutation,
        outcome: await readerOutcome([path], async () => {
          const tok = await Bpe.load(path);
          for (const s of SENTENCES) if (tok.decode(tok.encode(s)) !== s) throw new Error(`round trip lost '${s}'`);
          for (let id = 0; id < tok.vocabSize; id++) tok.tokenText(id);
        }),
      };
    };
  },
};

/** GPT-2's byte stand-in alphabet (as in vocab.json), built the way GPT-2's bytes_to_unicode does. */
export function gpt2Alphabet(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : 256 + extra++));
}

const tokenizerGpt2: Target = {
  name: 'tokenizer-gpt2',
  async setup() {
    const alphabet = gpt2Alphabet();
    const vocab: Record<string, number> = Object.fromEntries(alphabet.map((c, i) => [c, i]));
    const merges = [['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['i', 'n'], ['e', 'r']];
    for (const [a, b] of merges) vocab[a! + b!] = Object.keys(vocab).length;
    vocab['<|endoftext|>'] = Object.keys(vocab).length;
    const seeds = { 'vocab.json': new TextEncoder().encode(JSON.stringify(vocab)), 'merges.txt': new TextEncoder().encode(`#version: 0.2\n${merges.map((m) => m.join(' ')).join('\n')}\n`) };
    return async (rng, dir) => {
      const [vocabPath, mergesPath] = [join(dir, 'vocab.json'), join(dir, 'merges.txt')];
      writeFileSync(vocabPath, seeds['vocab.json']);
      writeFileSync(mergesPath, seeds['merges.txt']);
      const which = rng.int(3) === 0 ? 'merges.txt' : 'vocab.json';
      const mutation = `${which}: ${mutateFile(rng, join(dir, which), seeds[which], which === 'vocab.json' ? mutateJson : undefined)}`;
      return {
        mutation,
        outcome: await readerOutcome([vocabPath, mergesPath], async () => {
          const tok = await Gpt2Tokenizer.loadVocabMerges(vocabPath, mergesPath);
          for (const s of SENTENCES) if (tok.decode(tok.encode(s)) !== s) throw new Error(`round trip lost '${s}'`);
        }),
      };
    };
  },
};

const tokenizerRoberta: Target = {
  name: 'tokenizer-roberta',
  async setup() {
    const seed = new TextEncoder().encode(RobertaTokenizer.learn(SENTENCES, { vocabSize: 300 }).toTokenizerJson());
    return async (rng, dir) => {
      const path = join(dir, 'tokenizer.json');
      const mutation = mutateFile(rng, path, seed, mutateJson);
      return {
        mutation,
        outcome: await readerOutcome([path], async () => {
          const tok = await loadEncoderTokenizer(path); // a tokenizer.json read as its model type names (RoBERTa's BPE here)
          for (const s of SENTENCES) tok.decode(tok.encodeForModel(`${s} <mask>`, s).ids);
        }),
      };
    };
  },
};

const config: Target = {
  name: 'config',
  async setup(dir) {
    await tinyModelDir(join(dir, 'model'));
    const seed = readFileSync(join(dir, 'model', 'config.json'));
    return async (rng) => {
      const model = join(dir, 'model');
      const path = join(model, 'config.json');
      const mutation = mutateFile(rng, path, seed, mutateJson);
      // A config that is valid but not the weights' is named through the weights file; both lie in the model directory.
      const outcome = await readerOutcome([model], () => loadAndTranslate(model));
      writeFileSync(path, seed);
      return { mutation, outcome };
    };
  },
};

const MODEL_FILES = ['config.json', 'tokenizer.json', 'weights.safetensors'];

const modelDir: Target = {
  name: 'model-dir',
  async setup(dir) {
    await tinyModelDir(join(dir, 'a'));
    await tinyModelDir(join(dir, 'b'), 12); // another model: same tokenizer, other widths
    const seeds = Object.fromEntries(MODEL_FILES.map((f) => [f, readFileSync(join(dir, 'a', f))]));
    const other = Object.fromEntries(MODEL_FILES.map((f) => [f, readFileSync(join(dir, 'b', f))]));
    return async (rng, caseDir) => {
      const model = join(caseDir, 'model');
      rmSync(model, { recursive: true, force: true });
      mkdirSync(model);
      for (const f of MODEL_FILES) writeFileSync(join(model, f), seeds[f]!);
      const [f, g] = [pick(rng, MODEL_FILES), pick(rng, MODEL_FILES)];
      let mutation: string;
      switch (rng.int(6)) {
        case 0: rmSync(join(model, f)); mutation = `${f} missing`; break;
        case 1: writeFileSync(join(model, f), seeds[g]!); writeFileSync(join(model, g), seeds[f]!); mutation = `${f} and ${g} swapped`; break;
        case 2: writeFileSync(join(model, f), other[f]!); mutation = `${f} from another model`; break;
        case 3: rmSync(join(model, f)); mkdirSync(join(model, f)); mutation = `${f} is a directory`; break;
        case 4: writeFileSync(join(model, f), ''); mutation = `${f} empty`; break;
        default: mutation = `${f}: ${mutateFile(rng, join(model, f), seeds[f]!, f === 'weights.safetensors' ? mutateSafetensors : mutateJson)}`;
      }
      return { mutation, outcome: await readerOutcome([model], () => loadAndTranslate(model)) };
    };
  },
};

/** Corpus mutations: invalid UTF-8, NUL bytes, long lines (up to 10 MB), CRLF, empty files, gzip, a missing line. */
function mutateCorpus(rng: Rng, bytes: Uint8Array): Mutant {
  const text = new TextDecoder().decode(bytes);
  const enc = (s: string) => new TextEncoder().encode(s);
  const lines = text.split('\n');
  const line = rng.int(lines.length);
  switch (rng.int(9)) {
    case 0: { const at = rng.int(bytes.length + 1); return { bytes: concat(bytes.subarray(0, at), Uint8Array.from(pick(rng, [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]])), bytes.subarray(at)), mutation: 'invalid UTF-8' }; }
    case 1: { lines[line] = lines[line]!.replace(/ /g, '\0'); return { bytes: enc(lines.join('\n')), mutation: 'NUL bytes' }; }
    case 2: {
      const size = rng.int(50) === 0 ? 10 * 2 ** 20 : 1 + rng.int(100_000);
      lines[line] = (lines[line]! + ' ').repeat(Math.ceil(size / (lines[line]!.length + 1))).slice(0, size);
      return { bytes: enc(lines.join('\n')), mutation: `a ${size}-byte line` };
    }
    case 3: return { bytes: enc(lines.join('\r\n')), mutation: 'CRLF' };
    case 4: return { bytes: new Uint8Array(0), mutation: 'empty file' };
    case 5: { const z = gzipSync(bytes); return rng.int(2) === 0 ? { bytes: z, mutation: 'gzip' } : { bytes: mutateBytes(rng, z).bytes, mutation: 'corrupt gzip' }; }
    case 6: { lines.splice(line, 1); return { bytes: enc(lines.join('\n')), mutation: 'a line removed' }; }
    case 7: return { bytes: enc('\ufeff' + text), mutation: 'BOM' };
    default: return mutateBytes(rng, bytes);
  }
}

const corpus: Target = {
  name: 'corpus',
  async setup() {
    const src = new TextEncoder().encode(SENTENCES.filter((_, i) => i % 2 === 0).join('\n') + '\n');
    const tgt = new TextEncoder().encode(SENTENCES.filter((_, i) => i % 2 === 1).join('\n') + '\n');
    const bpe = Bpe.learn(SENTENCES, { merges: 30 });
    return async (rng, dir) => {
      const [srcPath, tgtPath] = [join(dir, 'train.de'), join(dir, 'train.en')];
      writeFileSync(srcPath, src);
      writeFileSync(tgtPath, tgt);
      const [path, seed] = rng.int(2) === 0 ? [srcPath, src] : [tgtPath, tgt];
      const m = mutateCorpus(rng, seed);
      writeFileSync(path, m.bytes);
      return {
        mutation: m.mutation,
        outcome: await readerOutcome([srcPath, tgtPath], async () => {
          for await (const p of readParallel(srcPath, tgtPath)) { bpe.encode(p.src); bpe.encode(p.tgt); }
        }),
      };
    };
  },
};

/** POSTs a body; resolves to the status and body text. */
function post(url: string, path: string, body: Uint8Array): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const http: Target = {
  name: 'http',
  async setup(dir) {
    const model = join(dir, 'model');
    await tinyModelDir(model);
    const server = createServer(await loadModelDir(model), { modelDir: model, webRoot: dir, maxBodyBytes: 64 * 1024 });
    const url = await server.listen(0);
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const seeds: Array<[string, Uint8Array]> = [['/translate', enc({ text: SENTENCES[0] })], ['/attention', enc({ text: SENTENCES[1] })], ['/attention', enc({ text: SENTENCES[4], tgt: SENTENCES[5] })]];
    return async (rng) => {
      const [path, seed] = pick(rng, seeds);
      const oversized = rng.int(50) === 0;
      const m = oversized ? { bytes: new Uint8Array(64 * 1024 + 1 + rng.int(2 ** 20)).fill(0x20), mutation: 'oversized body' } : rng.int(2) === 0 ? mutateJson(rng, seed) : mutateBytes(rng, seed);
      try {
        const r = await post(url, path, m.bytes);
        let json: unknown;
        try { json = JSON.parse(r.text); } catch { return { mutation: m.mutation, outcome: { kind: 'crash', detail: `${r.status} with a body that is not JSON: ${r.text.slice(0, 100)}` } }; }
        const ok = r.status === 200 && typeof json === 'object' && json !== null;
        const clean = r.status >= 400 && r.status < 500 && typeof (json as { error?: unknown }).error === 'string';
        return { mutation: m.mutation, outcome: { kind: ok ? 'valid' : clean ? 'clean' : 'crash', detail: `${r.status} ${r.text.slice(0, 200)}` } };
      } catch (err) {
        return { mutation: m.mutation, outcome: { kind: 'crash', detail: `request failed: ${(err as Error).message}` } };
      }
    };
  },
};

/** Every reader, by name. */
export const TARGETS: ReadonlyMap<string, Target> = new Map([safetensors, tokenizerBpe, tokenizerGpt2, tokenizerRoberta, config, modelDir, corpus, http].map((t) => [t.name, t]));

/** Makes a fresh directory for a case (the previous case's files removed). */
export function freshDir(path: string): string {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  return path;
}

