// aiayn side of `npm run bench:vs-torch`: a long-lived worker that trains or greedily decodes the Transformer
// of Figure 1 (Vaswani et al. 2017) and times itself on command. A training step is forward, label-smoothed
// cross entropy (§5.4), backward and an Adam step (§5.3), all inside one tidy(). The PyTorch twin is
// bench/torch_step.py; the harness (bench/vs-torch.ts) passes both the same --spec.
//
// Usage: node --import tsx bench/ours-step.ts --spec '<BenchSpec JSON>'   (threads: AIAYN_THREADS)
// stdin, one command per line; stdout, one JSON line per command:
//   run K        K training steps      -> {"ms", "steps", "loss", "peak_rss_mb"}
//   decode B K [kv|recompute]   K greedy decodes of B with the KV-cached TransformerDecoder (default) or by
//                full recomputation of the prefix -> {"ms", "decodes", "batch", "tokens", "decoder", "peak_rss_mb"}
//   profile K    K training steps with every backend kernel call timed -> {"ms", "kernels": [{"kernel", "calls", "ms"}]}
//   profile-decode B K [kv|recompute]   decode with every kernel call timed (per decode) -> adds "kernels"
//   gemm         dnnl_sgemm 1024^3 through the addon's directSgemm -> {"gflops"} ({"gflops": null, "why"} without it)
//   quit
// The first line written is {"ready": true, "params", "backend", "threads"}.

import { createInterface } from 'node:readline';
import { getBackend } from '../src/backend/index.js';
import { loadNativeAddon } from '../src/backend/native/index.js';
import { greedyDecode } from '../src/decode/greedy.js';
import { TransformerDecoder } from '../src/decode/transformer-decoder.js';
import type { IncrementalDecoder } from '../src/decode/types.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { concat, noGrad, tensor, tidy, Rng, type Tensor } from '../src/tensor/index.js';
import { Adam } from '../src/train/optim.js';
import { instrument, kernelTable } from './kernel-timer.js';
import { BOS, PAD, randomBatch, randomIds } from './webgpu/model.js';

/** Model and batch shapes of one benchmark config (the harness's table, passed as JSON). */
export interface BenchSpec {
  name: string; d: number; h: number; ff: number; enc: number; dec: number; vocab: number;
  batch: number; src: number; tgt: number; newTokens: number;
}

/**
 * Greedy decoding by full recomputation: each step re-runs the decoder over the whole prefix, as the PyTorch
 * tutorial does (no key/value cache); the like-for-like baseline beside the KV-cached TransformerDecoder.
 */
class RecomputingDecoder implements IncrementalDecoder {
  readonly vocabSize: number;
  private prefixes: number[][];
  private memory: Tensor;

  constructor(private readonly model: Transformer, src: Tensor) {
    this.vocabSize = model.config.tgtVocab;
    this.memory = noGrad(() => model.encode(src)).keep(); // (B, S, d)
    this.prefixes = Array.from({ length: src.shape[0]! }, () => []);
  }

  /** Appends each row's last token, decodes the prefixes and returns log p of the next token [n, V]. */
  step(lastTokens: Int32Array): Tensor {
    this.prefixes.forEach((p, i) => p.push(lastTokens[i]!));
    const n = this.prefixes.length;
    const t = this.prefixes[0]!.length;
    return tidy(() => noGrad(() => {
      const ys = tensor(Int32Array.from(this.prefixes.flat()), [n, t], 'int32');
      const logits = this.model.decode(ys, this.memory); // (n, t, V)
      return logits.slice(1, t - 1, t).logSoftmax(-1).reshape([n, this.vocabSize]); // (n, V)
    }));
  }

  /** Keeps rows by index (prefixes and encoder memory). */
  select(indices: Int32Array): void {
    this.prefixes = Array.from(indices, (i) => [...this.prefixes[i]!]);
    const old = this.memory;
    if (indices.length === 0) return; // every row finished; the memory goes with dispose()
    this.memory = tidy(() => concat(Array.from(indices, (i) => old.slice(0, i, i + 1)), 0)).keep(); // (n, S, d)
    old.dispose();
  }

  /** Frees the encoder memory. */
  dispose(): void { this.memory.dispose(); }
}


/** Peak resident set size of this process in MiB (maxRSS is in KiB). */
function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Best GFLOP/s of dnnl_sgemm on 1024^3 over repetitions lasting at least 0.5 s, or why it cannot run. */
function gemmPeak(): { gflops: number | null; why?: string } {
  let addon;
  try {
    addon = loadNativeAddon();
  } catch (err) {
    return { gflops: null, why: err instanceof Error ? err.message : String(err) };
  }
  const n = 1024;
  const a = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const c = new Float32Array(n * n);
  const call = (): void => addon.directSgemm({ transA: false, transB: false, m: n, n, k: n, alpha: 1, a, lda: n, b, ldb: n, beta: 0, c, ldc: n });
  call();
  let best = Infinity;
  let spent = 0;
  while (spent < 0.5) {
    const t0 = process.hrtime.bigint();
    call();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, dt);
    spent += dt;
  }
  return { gflops: (2 * n * n * n) / best / 1e9 };
}

/** Parses --spec, builds the model and optimizer, and serves commands until stdin closes or `quit`. */
async function main(): Promise<void> {
  const at = process.argv.indexOf('--spec');
  if (at < 0 || process.argv[at + 1] === undefined) throw new Error('ours-step: pass --spec <JSON>');
  const spec = JSON.parse(process.argv[at + 1]!) as BenchSpec;
  const config = makeConfig('tiny', {
    srcVocab: spec.vocab, tgtVocab: spec.vocab, dModel: spec.d, h: spec.h, dFF: spec.ff, encoderLayers: spec.enc,
    decoderLayers: spec.dec, dropout: 0.1, attentionDropout: 0.1, labelSmoothing: 0.1, shareEmbeddings: 'none',
    finalNorm: true, normFirst: false, maxLen: 512,
  });
  const model = new Transformer(config);
  const optimizer = new Adam(model.parameters(), { lr: 1e-4, betas: [0.9, 0.98], eps: 1e-9 });
  const rng = new Rng(1);
  const batches = Array.from({ length: 4 }, () => randomBatch(spec, spec.batch, rng));
  let steps = 0;
  const reply = (obj: object): void => { process.stdout.write(JSON.stringify(obj) + '\n'); };

  reply({ ready: true, params: model.parameters().reduce((s, p) => s + p.size, 0), backend: getBackend().name,
    threads: getBackend().threads() });
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, ...args] = line.trim().split(/\s+/);
    if (cmd === undefined || cmd === '') continue;
    if (cmd === 'quit') break;
    if (cmd === 'run' || cmd === 'profile') {
      const k = Number(args[0]);
      const probe = cmd === 'profile' ? instrument(getBackend()) : null;
      model.train();
      let loss = NaN;
      const t0 = performance.now();
      for (let i = 0; i < k; i++) {
        const b = batches[steps++ % batches.length]!;
        const l = tidy(() => {
          optimizer.zeroGrad();
          const step = model.loss(b.src, b.tgtIn, b.tgtOut, { padId: PAD, labelSmoothing: 0.1 });
          step.backward();
          optimizer.step();
          return step;
        });
        loss = await l.itemAsync();
        l.dispose();
      }
      const ms = performance.now() - t0;
      probe?.restore();
      const kernels = probe === null ? undefined : kernelTable(probe.times, k);
      reply({ ms, steps: k, loss, peak_rss_mb: peakRssMb(), kernels });
    } else if (cmd === 'decode' || cmd === 'profile-decode') {
      const [b, k] = [Number(args[0]), Number(args[1])];
      const kind = args[2] ?? 'kv';
      if (kind !== 'kv' && kind !== 'recompute') { reply({ error: `decode: decoder must be kv or recompute, got '${kind}'` }); continue; }
      const ids = randomIds(rng, b, spec.src, spec.vocab);
      const rows = Array.from({ length: b }, (_, i) => ids.subarray(i * spec.src, (i + 1) * spec.src));
      const src = tensor(ids, [b, spec.src], 'int32').keep();
      model.eval();
      let tokens = 0;
      const probe = cmd === 'profile-decode' ? instrument(getBackend()) : null;
      const t0 = performance.now();
      for (let i = 0; i < k; i++) {
        const decoder = kind === 'kv' ? new TransformerDecoder(model, rows, PAD) : new RecomputingDecoder(model, src);
        const out = await greedyDecode(decoder, b, { bos: BOS, eos: -1, maxLen: spec.newTokens });
        decoder.dispose();
        tokens = out[0]!.length;
      }
      const ms = performance.now() - t0;
      probe?.restore();
      reply({ ms, decodes: k, batch: b, tokens, decoder: kind === 'kv' ? 'kv-cache' : 'full-recompute', peak_rss_mb: peakRssMb(),
        kernels: probe === null ? undefined : kernelTable(probe.times, k) });
      src.dispose();
    } else if (cmd === 'gemm') {
      reply(gemmPeak());
    } else {
      reply({ error: `unknown command '${line.trim()}'` });
    }
  }
}

await main();
