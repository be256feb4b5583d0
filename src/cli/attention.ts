// `aiayn attention`: draws the attention weights (§3.2) of every layer and head for one sentence pair, as the
// paper's Figures 3-5 do for single heads: encoder self-attention, decoder self-attention and
// encoder-decoder attention, as an HTML page or a PNG image.

import { extname } from 'node:path';
import { writeFileAtomic } from '../data/files.js';
import { attentionMaps } from '../inspect/attention.js';
import type { AttentionMaps } from '../inspect/attention.js';
import { MAX_PNG_PIXELS, renderHtml, renderPng } from '../inspect/heatmap.js';
import type { MapSelection } from '../inspect/heatmap-svg.js';
import { CliError, getFlag, getNumber, getString, parseArgs, type ParsedArgs } from './args.js';
import { loadModelArg } from './translate.js';

const HELP = `usage: aiayn attention --model DIR --src "SENTENCE" [--tgt "TRANSLATION"] [--layer N] [--head N] -o OUT.html|OUT.png

  --model DIR       a model directory written by 'aiayn train' or 'aiayn convert'
  --weights FILE    use these weights instead of DIR/weights.safetensors
  --allow-nonfinite load weights that hold NaN or Inf (refused by default, naming the tensor)
  --src TEXT        the source sentence
  --tgt TEXT        the target sentence (default: the model's greedy translation of --src)
  --layer N         draw only layer N (1-based) of each kind of attention
  --head N          draw only head N (1-based)
  -o, --out FILE    .html: a self-contained page (hover a cell for its weight); .png: one image

Draws one heatmap per layer and head of encoder self-attention, decoder self-attention and encoder-decoder
attention, with the tokens on both axes (rows attend to columns). Labels are the tokens as written (spaces
shown as \u2581), cut with '\u2026' after 16 characters; the PNG draws them with the fonts in data/fonts. A PNG
over ${MAX_PNG_PIXELS / 1e6} megapixels is refused: pick maps with --layer and --head. A sentence longer than the model's
maximum length is truncated, with a warning on stderr.`;

const RENDERERS: Record<string, (maps: AttentionMaps, source: string, selection: MapSelection) => string | Uint8Array> = { '.html': renderHtml, '.png': renderPng };

/** --layer and --head as a 0-based selection, checked against the model's layers and heads. */
function selectionOf(args: ParsedArgs, config: { encoderLayers: number; decoderLayers: number; h: number }): MapSelection {
  const pick = (name: string, count: number): number | undefined => {
    const n = getNumber(args, name);
    if (n === undefined) return undefined;
    if (!Number.isInteger(n) || n < 1 || n > count) throw new CliError(`--${name} must be a whole number from 1 to ${count} (the model's ${name}s), got ${n}`);
    return n - 1;
  };
  return { layer: pick('layer', Math.max(config.encoderLayers, config.decoderLayers)), head: pick('head', config.h) };
}

/** Runs `aiayn attention`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['help', 'allow-nonfinite'], aliases: { '-m': 'model', '-o': 'out', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const src = getString(args, 'src');
  if (src === undefined || src.trim() === '') throw new CliError('--src "SENTENCE" is required (a non-empty source sentence)');
  const out = getString(args, 'out');
  if (out === undefined) throw new CliError('-o OUT.html or -o OUT.png is required');
  const render = RENDERERS[extname(out).toLowerCase()];
  if (render === undefined) throw new CliError(`cannot tell the output format of '${out}': use a .html or .png file name`);
  const { model, tokenizer } = await loadModelArg(args);
  const selection = selectionOf(args, model.config);
  const maps = await attentionMaps(model, tokenizer, src, getString(args, 'tgt'), {
    onTruncate: (side, length, max) => console.error(`aiayn: warning: the ${side} has ${length} tokens, more than the model's ${max}; truncated`),
  });
  let picture: string | Uint8Array;
  try {
    picture = render(maps, src, selection);
  } catch (err) {
    throw new CliError(`cannot draw ${out}: ${(err as Error).message}`);
  }
  try {
    await writeFileAtomic(out, picture);
  } catch (err) {
    throw new CliError(`cannot write ${out}: ${(err as Error).message}`);
  }
  const { encoder, decoder } = maps.layers;
  const drawn = [selection.layer === undefined ? '' : `layer ${selection.layer + 1}`, selection.head === undefined ? '' : `head ${selection.head + 1}`].filter(Boolean).join(', ');
  console.log(`wrote ${out}: ${encoder} encoder + ${decoder} decoder layers x ${maps.heads} heads `
    + `(${encoder * maps.heads} encoder self, ${decoder * maps.heads} decoder self, ${decoder * maps.heads} cross maps); `
    + `${maps.srcTokens.length} source tokens, ${maps.tgtTokens.length} target tokens; target: ${maps.translation}${drawn && `; drawn: ${drawn} only`}`);
  return 0;
}
