// `aiayn serve`: serves the web page (translate, attention heatmaps, positional encodings, in-browser inference)
// and its JSON API for one model until interrupted.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_WEB_ROOT, createServer } from '../serve/server.js';
import { CliError, getFlag, getNumber, getString, parseArgs } from './args.js';
import { loadModelArg } from './translate.js';

const HELP = `usage: aiayn serve --model DIR [--port 8080] [--host 127.0.0.1]

  --model DIR       a model directory written by 'aiayn train' or 'aiayn convert'
  --weights FILE    use (and serve) these weights instead of DIR/weights.safetensors
  --allow-nonfinite load weights that hold NaN or Inf (refused by default, naming the tensor)
  --port P          port to listen on (default 8080; 0 picks a free one)
  --host H          address to bind (default 127.0.0.1, this machine only)
  --request-timeout S   seconds a client has to send its whole request (default 30; headers: a third of it)

The page is at http://HOST:PORT/. The JSON API:
  POST /translate {"text": "..."}                  -> {"translation": "..."} (greedy)
  POST /attention {"text": "...", "tgt": "..."}    -> tokens and weights per layer and head (tgt optional:
                                                      the greedy translation when left out)
  GET  /model/config.json, /model/tokenizer.json, /model/weights.safetensors   (for in-browser inference)
Errors are {"error": "..."}: 400 bad JSON or field, 404, 405, 413 body over 1 MiB, 422 text longer than
the model's maximum length, 503 queue full; a client too slow to send its request gets 408. Requests are
answered one at a time, in order. On SIGINT or SIGTERM the server stops accepting connections and exits once
the requests in flight are answered.`;

/** Runs `aiayn serve`; resolves with 0 once SIGINT or SIGTERM has closed the server. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['help', 'allow-nonfinite'], aliases: { '-m': 'model', '-p': 'port', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const port = getNumber(args, 'port', 8080)!;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be an integer in 0..65535, got ${port}`);
  const host = getString(args, 'host', '127.0.0.1')!;
  const loaded = await loadModelArg(args);
  const requestTimeout = getNumber(args, 'request-timeout', 30)!;
  if (!(requestTimeout > 0)) throw new CliError(`--request-timeout must be a positive number of seconds, got ${requestTimeout}`);
  const server = createServer(loaded, { modelDir: getString(args, 'model')!, weightsPath: getString(args, 'weights'), requestTimeoutMs: requestTimeout * 1000 });
  let url: string;
  try {
    url = await server.listen(port, host);
  } catch (err) {
    throw new CliError(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  if (!existsSync(join(DEFAULT_WEB_ROOT, 'index.html'))) console.error(`aiayn serve: warning: the web page is not built (${DEFAULT_WEB_ROOT}); run 'npm run build:web'. The API works without it.`);
  console.log(`aiayn serve: ${url} (model ${getString(args, 'model')}; Ctrl-C to stop)`);
  await new Promise<void>((stop) => {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  console.log('aiayn serve: stopped');
  return 0;
}
