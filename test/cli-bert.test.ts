// aiayn train-mlm, finetune and classify end to end on a few lines: a killed pretraining run resumes to the same
// weights bit for bit, a classifier fine-tuned from it labels stdin lines with probabilities, bad input is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'aiayn-bert-cli-'));
const file = (name: string, text: string): string => { writeFileSync(join(dir, name), text); return join(dir, name); };
const animals = ['dog', 'cat', 'horse', 'bird'];
const lines = Array.from({ length: 60 }, (_, i) => `A ${animals[i % 4]} runs in the ${['park', 'snow', 'street'][i % 3]}.`);
const small = ['--preset', 'bert-tiny', '--max-len', '16', '--batch-size', '8', '--quiet'];

test('train-mlm resumes bit-exactly; finetune from it; classify prints labels and probabilities', async () => {
  try {
    const mlm = join(dir, 'mlm');
    const pretrain = ['train-mlm', '--out', mlm, '--train', file('t.txt', lines.join('\n')), '--val', file('v.txt', lines.slice(0, 8).join('\n')),
      '--vocab-size', '120', '--max-steps', '4', '--eval-every', '2', '--checkpoint-every', '2', '--keep-checkpoints', '3', ...small];
    assert.equal(await main(pretrain), 0);
    assert.equal((JSON.parse(readFileSync(join(mlm, 'tokenizer_config.json'), 'utf8')) as { tokenizer_class: string }).tokenizer_class, 'BertTokenizer');
    const whole = readFileSync(join(mlm, 'model.safetensors'));
    unlinkSync(join(mlm, 'checkpoints', 'ckpt-4.safetensors')); // as if killed after step 2's checkpoint
    assert.equal(await main(['train-mlm', '--out', mlm, '--resume', '--quiet']), 0);
    assert.ok(readFileSync(join(mlm, 'model.safetensors')).equals(whole), 'the resumed run ends with the same weights');
    const log = readFileSync(join(mlm, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number });
    assert.deepEqual(log.map((r) => r.step), [0, 1, 2, 2, 3, 4, 4]);

    const tsv = lines.map((l, i) => `${i % 2 === 0 ? 'dog' : 'other'}\t${l}`);
    const ft = join(dir, 'ft');
    const finetune = ['finetune', '--out', ft, '--model', mlm, '--train', file('a.tsv', tsv.join('\n')), '--val', file('b.tsv', tsv.slice(0, 8).join('\n')),
      '--max-steps', '3', '--eval-every', '3', '--checkpoint-every', '3', ...small];
    assert.equal(await main(finetune), 0);
    const script = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script, 'classify', '--model', ft], { cwd: ROOT, input: 'A dog runs.\nA cat sits.\n', encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.trim().split('\n');
    assert.equal(out.length, 2);
    for (const line of out) {
      const m = /^(dog|other)\tdog=([\d.]+) other=([\d.]+)$/.exec(line);
      assert.ok(m !== null, line);
      assert.ok(Math.abs(Number(m[2]) + Number(m[3]) - 1) < 2e-4, line);
    }
    assert.equal(await main(['finetune', '--out', join(dir, 'bad'), '--model', mlm, '--train', join(dir, 'a.tsv'), '--val', file('c.tsv', 'cat\tA cat.')]), 2);
    assert.equal(await main(['classify', '--model', mlm]), 2); // a masked LM is not a classifier
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
