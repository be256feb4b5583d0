// The processes of a data-parallel job (docs/distributed.md): one per rank, started by an MPI launcher
// (mpirun, srun), each holding the whole model. The collectives come from MPI through the optional addon
// native/mpi (built when mpicc is found); a process that no launcher started is a job of one and needs nothing.
// Every wait polls a non-blocking request under a watchdog, so a rank whose peer died ends the job, not hangs.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { packageRoot } from '../backend/package-root.js';

/** An operation started on every rank, not yet known to be complete. */
export interface PendingOp { readonly id: number; done: boolean; }

/** This process's rank among size processes, and the collectives among them. */
export interface Collective {
  readonly rank: number;
  readonly size: number;
  /** Starts summing buf over all ranks, in place (every rank must start the same operations in the same order). */
  startAllreduce(buf: Float32Array): PendingOp;
  /** Lets in-flight operations advance without blocking (call it between pieces of work). */
  progress(): void;
  /** Resolves when op has completed on this rank; `what` names it in the watchdog's message. */
  wait(op: PendingOp, what: string): Promise<void>;
  /** Copies root's buf into every rank's buf. */
  broadcast(buf: Float32Array, root: number, what: string): Promise<void>;
  /** Resolves when every rank has reached it. */
  barrier(what: string): Promise<void>;
  /** Ends the job cleanly (every rank calls it once, at the end). */
  finalize(): void;
}

/** The raw functions of native/mpi/collective.cc. */
interface MpiAddon {
  init(): { rank: number; size: number };
  iallreduce(buf: Float32Array): number;
  ibroadcast(buf: Float32Array, root: number): number;
  ibarrier(): number;
  test(id: number, ms?: number): boolean;
  abort(code: number): void;
  finalize(): void;
}

/** A job of one process: every collective is the identity. */
const SINGLE: Collective = {
  rank: 0,
  size: 1,
  startAllreduce: () => ({ id: 0, done: true }),
  progress: () => {},
  wait: async () => {},
  broadcast: async () => {},
  barrier: async () => {},
  finalize: () => {},
};

/** The number of processes the launcher started (Open MPI, MPICH/PMI, Slurm's srun), or 1. */
export function launchedSize(env: NodeJS.ProcessEnv = process.env): number {
  for (const key of ['OMPI_COMM_WORLD_SIZE', 'PMI_SIZE', 'SLURM_STEP_NUM_TASKS']) {
    const n = Number(env[key]);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  return 1;
}

/** Seconds a collective may wait for the other ranks (AIAYN_COLLECTIVE_TIMEOUT, default 600). */
function timeoutSeconds(): number {
  const raw = process.env['AIAYN_COLLECTIVE_TIMEOUT'];
  if (raw === undefined || raw === '') return 600;
  const s = Number(raw);
  if (!(s > 0)) throw new Error(`AIAYN_COLLECTIVE_TIMEOUT must be a positive number of seconds, got '${raw}'`);
  return s;
}

/** Loads the MPI addon (AIAYN_MPI_PATH, else native/mpi/build/Release/aiayn_mpi.node); says what to install when missing. */
function loadMpiAddon(size: number): MpiAddon {
  const override = process.env['AIAYN_MPI_PATH'];
  const path = override ? resolve(override) : join(packageRoot(), 'native', 'mpi', 'build', 'Release', 'aiayn_mpi.node');
  if (!existsSync(path)) {
    throw new Error(`started as ${size} processes, but the MPI addon is not built (${path}): install an MPI ` +
      `(apt-get install libopenmpi-dev openmpi-bin), then rebuild with 'node scripts/build-native.mjs'`);
  }
  return createRequire(import.meta.url)(path) as MpiAddon;
}

/** Open MPI's world through the addon: polled requests, a watchdog, and an abort that names the rank. */
class MpiCollective implements Collective {
  readonly rank: number;
  readonly size: number;
  private finalized = false;
  private readonly inFlight = new Set<PendingOp>();

  constructor(private readonly mpi: MpiAddon, private readonly timeout: number) {
    ({ rank: this.rank, size: this.size } = mpi.init());
    // A rank that exits on an error ends the job at once instead of leaving the others to their watchdogs; MPI_Abort
    // ends this process before Node would print an uncaught error, so it is printed here.
    let uncaught: unknown;
    process.on('uncaughtExceptionMonitor', (err) => { uncaught = err; });
    process.on('exit', (code) => {
      if (this.finalized) return;
      if (code !== 0) {
        const why = uncaught === undefined ? '' : `: ${uncaught instanceof Error ? uncaught.stack : String(uncaught)}\n`;
        console.error(`aiayn: rank ${this.rank} of ${this.size} is exiting with an error (code ${code})${why}; ending the job`);
        mpi.abort(code);
      }
      this.finalize();
    });
    // mpirun ends the others this way when a rank dies: say so instead of vanishing.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        console.error(`aiayn: rank ${this.rank} of ${this.size} stopped by ${signal} (the launcher ends every rank when one fails; see its message)`);
        this.finalized = true;
        process.exit(signal === 'SIGTERM' ? 143 : 130);
      });
    }
  }

  startAllreduce(buf: Float32Array): PendingOp {
    const op = { id: this.mpi.iallreduce(buf), done: false };
    this.inFlight.add(op);
    return op;
  }

  progress(): void {
    for (const op of this.inFlight) this.poll(op);
  }

  /** Whether op has completed, driving MPI for up to ms milliseconds (MPI_Test in a loop). */
  private poll(op: PendingOp, ms = 0): boolean {
    if (!op.done && this.mpi.test(op.id, ms)) { op.done = true; this.inFlight.delete(op); }
    return op.done;
  }

  async wait(op: PendingOp, what: string): Promise<void> {
    const started = performance.now();
    // MPI moves data only inside its calls: poll in slices of 20 ms, giving the event loop (signals) a turn between them.
    while (!this.poll(op, 20)) {
      if (performance.now() - started > this.timeout * 1000) {
        console.error(`aiayn: rank ${this.rank} of ${this.size}: ${what} did not complete within ${this.timeout} s ` +
          '(AIAYN_COLLECTIVE_TIMEOUT): another rank has died or hangs; ending the job');
        this.finalized = true;
        this.mpi.abort(1);
      }
      await nextTurn();
    }
  }

  async broadcast(buf: Float32Array, root: number, what: string): Promise<void> {
    const op = { id: this.mpi.ibroadcast(buf, root), done: false };
    this.inFlight.add(op);
    await this.wait(op, what);
  }

  async barrier(what: string): Promise<void> {
    const op = { id: this.mpi.ibarrier(), done: false };
    this.inFlight.add(op);
    await this.wait(op, what);
  }

  finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    this.mpi.finalize();
  }
}

let world: Collective | undefined;

/** This process's job: MPI's world when a launcher started several processes, else a job of one. */
export function openCollective(): Collective {
  if (world !== undefined) return world;
  const size = launchedSize();
  world = size === 1 ? SINGLE : new MpiCollective(loadMpiAddon(size), timeoutSeconds());
  return world;
}

/** Sums buf over all ranks in place and waits for it. */
export async function allreduce(world: Collective, buf: Float32Array, what: string): Promise<void> {
  await world.wait(world.startAllreduce(buf), what);
}
