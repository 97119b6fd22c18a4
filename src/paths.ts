import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package root, found from this file whether it runs from src/ (tests) or dist/src/ (built). */
function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'schemas'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the cvp package root above ${start}`);
    dir = up;
  }
  return dir;
}

export const packageRoot = findRoot(__dirname);
export const schemasDir = join(packageRoot, 'schemas');
export const templatesDir = join(packageRoot, 'templates');
