// Where the installed package lives, to find its compiled addons (build/Release/, native/mpi/build/Release/).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory at or above this module's that holds a package.json (the package root). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the aiayn package root above ' + dirname(fileURLToPath(import.meta.url)));
    dir = up;
  }
  return dir;
}
