// Builds the optional MPI addon (native/mpi/build/Release/aiayn_mpi.node) for data-parallel training
// (docs/distributed.md); build-native.mjs calls it. Without an MPI compiler wrapper (mpicc) it builds nothing
// and says what to install: everything else runs as before, on one process.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Builds the MPI addon with node-gyp under root/native/mpi; returns the one line to print. */
export function buildMpiAddon(root, nodeGyp, gypArgs, env) {
  const probe = spawnSync('mpicc', ['--showme:compile'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return 'aiayn: MPI addon not built: no mpicc found (for multi-process training install libopenmpi-dev openmpi-bin)';
  }
  const dir = join(root, 'native', 'mpi');
  const build = spawnSync(process.execPath, [nodeGyp, 'rebuild', ...gypArgs], { cwd: dir, encoding: 'utf8', env });
  mkdirSync(join(root, 'build'), { recursive: true });
  writeFileSync(join(root, 'build', 'mpi-build.log'), `${build.stdout ?? ''}${build.stderr ?? ''}`);
  const addon = join(dir, 'build', 'Release', 'aiayn_mpi.node');
  if (build.status !== 0 || !existsSync(addon)) return 'aiayn: MPI addon not built: node-gyp failed (log: build/mpi-build.log)';
  return `aiayn: MPI addon built (${addon})`;
}
