// One rank of the data-parallel test job (test/distributed.test.ts): trains on the first 400 Multi30k pairs
// with the settings given as JSON in argv[2]. AIAYN_TEST_FAULT=kill:RANK:STEP makes that rank SIGKILL itself
// after that step's backward pass (a rank that dies mid-step); hang:RANK:STEP makes it stall for a minute.
import { readMulti30k } from '../../src/data/corpora.js';
import { openCollective } from '../../src/train/distributed.js';
import { trainTranslation, type TranslationRun } from '../../src/train/translation.js';

const settings = JSON.parse(process.argv[2]!) as TranslationRun;
const [fault, rank, step] = (process.env['AIAYN_TEST_FAULT'] ?? 'none:-1:-1').split(':');
/** The injected fault, when this rank and step are the ones named. */
function inject(at: number): void {
  if (openCollective().rank !== Number(rank) || at !== Number(step)) return;
  if (fault === 'kill') process.kill(process.pid, 'SIGKILL');
  if (fault === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}
const train = (await readMulti30k('train', 'de', 'en')).slice(0, 400);
const val = (await readMulti30k('val', 'de', 'en')).slice(0, 20);
const result = await trainTranslation({
  ...settings, train, val, progress: false,
  onGradients: (_, at) => inject(at),
});
console.log(`rank ${openCollective().rank} of ${openCollective().size}: ${result.steps} steps`);
