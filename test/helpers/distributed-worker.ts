// One rank of the data-parallel test job (test/distributed.test.ts): trains on the first 400 Multi30k pairs
// with the settings given as JSON in argv[2]. AIAYN_TEST_KILL=RANK:STEP makes that rank SIGKILL itself after
// that step's backward pass (a rank that dies mid-step).
import { readMulti30k } from '../../src/data/corpora.js';
import { openCollective } from '../../src/train/distributed.js';
import { trainTranslation, type TranslationRun } from '../../src/train/translation.js';

const settings = JSON.parse(process.argv[2]!) as TranslationRun;
const [killRank, killStep] = (process.env['AIAYN_TEST_KILL'] ?? '-1:-1').split(':').map(Number);
const train = (await readMulti30k('train', 'de', 'en')).slice(0, 400);
const val = (await readMulti30k('val', 'de', 'en')).slice(0, 20);
const result = await trainTranslation({
  ...settings, train, val, progress: false,
  onGradients: (_, step) => { if (openCollective().rank === killRank && step === killStep) process.kill(process.pid, 'SIGKILL'); },
});
console.log(`rank ${openCollective().rank} of ${openCollective().size}: ${result.steps} steps`);
