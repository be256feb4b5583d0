// Builds the optional MPI addon (native/mpi/build/Release/aiayn_mpi.node) for data-parallel training
// (docs/distributed.md); build-native.mjs calls it. Without an MPI compiler wrapper (mpicc) it builds nothing
// and says what to install: everything else runs as before, on one process. AIAYN_SKIP_MPI=1 skips it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Compiles and links a tiny MPI program with env.CXX; returns undefined when it works, else why not. */
function probeMpi(env) {
  const flags = (what) => spawnSync('mpicc', [`--showme:${what}`], { encoding: 'utf8' });
  const compile = flags('compile');
  if (compile.error || compile.status !== 0) return 'no mpicc found (for multi-process training install libopenmpi-dev openmpi-bin)';
  const link = flags('link');
  const program = '#include <mpi.h>\nint main(int c, char** v) { MPI_Init(&c, &v); return MPI_Finalize(); }\n';
  // The defines as binding.gyp's: mpi.h without Open MPI's C++ bindings, which mpicc's C link line lacks.
  const args = ['-x', 'c++', '-', '-DOMPI_SKIP_MPICXX', '-DMPICH_SKIP_MPICXX', ...compile.stdout.trim().split(/\s+/), ...link.stdout.trim().split(/\s+/), '-o', '/dev/null'];
  const r = spawnSync(env.CXX, args, { input: program, encoding: 'utf8' });
  if (r.error || r.status !== 0) return `${env.CXX} cannot build an MPI program: ${(r.stderr ?? r.error?.message ?? '').trim().split('\n')[0]}`;
  return undefined;
}

/** Builds the MPI addon with node-gyp under root/native/mpi; returns the one line to print (none when skipped). */
export function buildMpiAddon(root, nodeGyp, gypArgs, env) {
  if (env.AIAYN_SKIP_MPI === '1') return undefined;
  // Probe before node-gyp: its rebuild deletes the previous addon, which a broken toolchain must not do.
  const missing = probeMpi(env);
  if (missing !== undefined) return `aiayn: MPI addon not built: ${missing}`;
  const dir = join(root, 'native', 'mpi');
  const build = spawnSync(process.execPath, [nodeGyp, 'rebuild', ...gypArgs], { cwd: dir, encoding: 'utf8', env });
  mkdirSync(join(root, 'build'), { recursive: true });
  writeFileSync(join(root, 'build', 'mpi-build.log'), `${build.stdout ?? ''}${build.stderr ?? ''}`);
  const addon = join(dir, 'build', 'Release', 'aiayn_mpi.node');
  if (build.status !== 0 || !existsSync(addon)) return 'aiayn: MPI addon not built: node-gyp failed (log: build/mpi-build.log)';
  return `aiayn: MPI addon built (${addon})`;
}
