import { BUILT_IN_CATALOGUE, type Catalogue, type PhoneModel } from './catalogue';

/** What can be said about a phone's model from its USB IDs alone, before the handshake. */
export interface ModelGuess {
  /** The model when the IDs name exactly one; null when several share them or none is known. */
  readonly model: PhoneModel | null;
  /** A label for a person, e.g. "Polycom CX600" or "Polycom phone". */
  readonly label: string;
}

/**
 * Names a model from vendor/product IDs. Only Polycom's vendor ID is public and the product IDs
 * are not, so this is a hint for the list; the handshake's identity is what counts.
 */
export function guessModel(vendorId: number, productId: number, catalogue: Catalogue = BUILT_IN_CATALOGUE): ModelGuess {
  const exact = catalogue.models.filter((m) => m.vendorId === vendorId && m.productId === productId);
  if (exact.length === 1) return { model: exact[0]!, label: exact[0]!.name };
  const byVendor = catalogue.models.filter((m) => m.vendorId === vendorId && m.productId === null);
  if (byVendor.length === 1) return { model: byVendor[0]!, label: byVendor[0]!.name };
  const vendor = (exact[0] ?? byVendor[0])?.vendor;
  return { model: null, label: vendor ? `${vendor} phone` : 'Lync Phone Edition phone' };
}
