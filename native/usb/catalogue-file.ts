import { readFile } from 'node:fs/promises';
import { TetherError } from '../../common/errors';
import { BUILT_IN_CATALOGUE, extendCatalogue, type Catalogue } from './catalogue';

/**
 * The built-in catalogue extended by an admin's JSON file (same shape, `models` only needed).
 * A missing or malformed file is a typed BAD_INPUT naming the file, never a crash.
 */
export async function loadCatalogue(extensionPath?: string): Promise<Catalogue> {
  if (!extensionPath) return BUILT_IN_CATALOGUE;
  let text: string;
  try {
    text = await readFile(extensionPath, 'utf8');
  } catch (err) {
    throw new TetherError('BAD_INPUT', `The phone catalogue extension ${extensionPath} could not be read.`, { detail: { path: extensionPath }, cause: err });
  }
  try {
    return extendCatalogue(BUILT_IN_CATALOGUE, JSON.parse(text) as unknown);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new TetherError('BAD_INPUT', `The phone catalogue extension ${extensionPath} is not valid: ${why}`, { detail: { path: extensionPath }, cause: err });
  }
}
