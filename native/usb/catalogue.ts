import { TetherError } from '../../common/errors';
import { encodeBody } from '../protocol/codec';
import { identityCodec } from '../protocol/message-schemas';
import builtIn from './catalogue.json';

/** The USB interface triple that marks a Tether-capable phone (our own protocol; docs/tether-protocol.md). */
export interface InterfaceTriple {
  readonly class: number;
  readonly subclass: number;
  readonly protocol: number;
}

export interface PhoneModel {
  /** Stable id used on the command line and in the journal, e.g. CX600. */
  readonly id: string;
  readonly name: string;
  readonly vendor: string;
  readonly vendorId: number | null;
  readonly productId: number | null;
  /** 'aries' phones (CX600, CX3000, HP 4120, Aastra 6725ip) can use PIN auth; 'tanjay' (CX700) cannot. */
  readonly family: 'aries' | 'tanjay';
  readonly pinAuth: boolean;
  /** Factory values the virtual phone starts from. */
  readonly hardwareRevision: string;
  readonly firmwareVersion: string;
  readonly locale: string;
}

export interface Catalogue {
  readonly tetherInterface: InterfaceTriple;
  readonly models: readonly PhoneModel[];
}

function invalid(message: string): TetherError {
  return new TetherError('BAD_INPUT', message);
}

/**
 * A model's id and factory values become a virtual phone's identity on the wire, so they must pass
 * the identity schema (docs/tether-protocol.md §9); checked by encoding a sample identity.
 */
function checkIdentityFields(m: PhoneModel, i: number): void {
  try {
    encodeBody(identityCodec, {
      modelId: m.id,
      serial: 'CATALOGUE-CHECK',
      hardwareRevision: m.hardwareRevision,
      firmwareVersion: m.firmwareVersion,
      mac: '02:00:00:00:00:00',
      locale: m.locale,
    });
  } catch (err) {
    const field = err instanceof TetherError && typeof err.detail.field === 'string' ? err.detail.field : 'identity';
    const name = field === 'modelId' ? 'id' : field;
    const reason = err instanceof TetherError && typeof err.detail.reason === 'string' ? err.detail.reason : 'invalid';
    throw invalid(`catalogue: models[${i}].${name} is not usable in a phone identity (${reason})`);
  }
}

function byte(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xff) {
    throw invalid(`catalogue: ${what} must be an integer 0–255`);
  }
  return value;
}

function optionalId(value: unknown, what: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw invalid(`catalogue: ${what} must be null or an integer 0–65535`);
  }
  return value;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`catalogue: ${what} must be a non-empty string`);
  return value;
}

/** Validates a catalogue document (the built-in one, or an admin's extension). */
export function parseCatalogue(doc: unknown): Catalogue {
  if (typeof doc !== 'object' || doc === null) throw invalid('catalogue: not an object');
  const d = doc as Record<string, unknown>;
  const ti = (d.tetherInterface ?? {}) as Record<string, unknown>;
  const tetherInterface = {
    class: byte(ti.class, 'tetherInterface.class'),
    subclass: byte(ti.subclass, 'tetherInterface.subclass'),
    protocol: byte(ti.protocol, 'tetherInterface.protocol'),
  };
  if (!Array.isArray(d.models)) throw invalid('catalogue: models must be an array');
  const models = d.models.map((m: unknown, i): PhoneModel => {
    const r = (m ?? {}) as Record<string, unknown>;
    const family = r.family === 'tanjay' ? 'tanjay' : r.family === 'aries' ? 'aries' : undefined;
    if (!family) throw invalid(`catalogue: models[${i}].family must be 'aries' or 'tanjay'`);
    const model: PhoneModel = {
      id: text(r.id, `models[${i}].id`),
      name: text(r.name, `models[${i}].name`),
      vendor: text(r.vendor, `models[${i}].vendor`),
      vendorId: optionalId(r.vendorId, `models[${i}].vendorId`),
      productId: optionalId(r.productId, `models[${i}].productId`),
      family,
      pinAuth: r.pinAuth === true,
      hardwareRevision: text(r.hardwareRevision, `models[${i}].hardwareRevision`),
      firmwareVersion: text(r.firmwareVersion, `models[${i}].firmwareVersion`),
      locale: text(r.locale, `models[${i}].locale`),
    };
    checkIdentityFields(model, i);
    return model;
  });
  const ids = new Set<string>();
  for (const m of models) {
    if (ids.has(m.id.toUpperCase())) throw invalid(`catalogue: model id ${m.id} appears twice`);
    ids.add(m.id.toUpperCase());
  }
  return { tetherInterface, models };
}

/** Adds (or replaces by id) models from an admin's extension file on top of a base catalogue. */
export function extendCatalogue(base: Catalogue, extension: unknown): Catalogue {
  const ext = parseCatalogue({ tetherInterface: base.tetherInterface, ...(extension as object) });
  const replaced = new Set(ext.models.map((m) => m.id.toUpperCase()));
  return { tetherInterface: base.tetherInterface, models: [...base.models.filter((m) => !replaced.has(m.id.toUpperCase())), ...ext.models] };
}

export const BUILT_IN_CATALOGUE: Catalogue = parseCatalogue(builtIn);

/** Finds a model by id, case-insensitively (cx600, CX600, hp4120 …). */
export function findModel(id: string, catalogue: Catalogue = BUILT_IN_CATALOGUE): PhoneModel | undefined {
  return catalogue.models.find((m) => m.id.toUpperCase() === id.toUpperCase());
}
