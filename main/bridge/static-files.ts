import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { TetherError } from '../../common/errors';

/**
 * The built renderer, read into memory once: the host answers only for these paths, so no request
 * can reach another file on disk (no path to normalise, nothing to traverse).
 */

export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

export async function loadStaticFiles(dir: string): Promise<Map<string, StaticFile>> {
  let files: string[];
  try {
    files = await walk(dir);
  } catch (err) {
    throw new TetherError('INTERNAL', `The window's files are missing (${dir}); run npm run build.`, { cause: err });
  }
  const map = new Map<string, StaticFile>();
  for (const file of files) {
    const type = TYPES[extname(file)];
    if (!type || file.endsWith('.map')) continue;
    map.set('/' + relative(dir, file).split(sep).join('/'), { body: await readFile(file), type });
  }
  if (!map.has('/index.html')) throw new TetherError('INTERNAL', `The window's files are missing (${dir}/index.html); run npm run build.`);
  return map;
}
