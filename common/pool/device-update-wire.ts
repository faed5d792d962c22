import { TetherError, toTetherError } from '../errors';
import { escapeXml, parseXml, type XmlElement } from '../xml';

/**
 * The Device Update Web service's request and response — OUR MODEL of a wire form that was never
 * published ([U] in reference §3; see docs/pool/device-update.md). The fields are the documented
 * ones [S20][S21]; the element names, the namespace and the Size/Sha256 and SignatureSize/
 * SignatureSha256 fields are ours. Everything
 * about the XML lives in this one module so a real trace can replace it.
 */

export const DEVICE_UPDATE_NS = 'urn:tether:device-update:model-1';
export const DEVICE_UPDATE_CONTENT_TYPE = 'text/xml; charset=utf-8';
/** Largest request or response document either side reads. */
export const MAX_DEVICE_UPDATE_XML = 64 * 1024;

export interface ModuleVersion {
  readonly fileName: string;
  readonly version: string;
  readonly timestamp: string;
}

/** What a phone says about itself [S20]. */
export interface DeviceIdentity {
  readonly deviceType: string; // UCPhone
  readonly mac: string; // 00-04-F2-12-34-56
  readonly serial: string;
  readonly vendor: string; // Polycom
  readonly model: string; // CX600
  readonly revision: string; // A
  readonly locale: string; // ENU
  /** The modules it runs: `filename;version;timestamp`, `#`-separated on the wire. */
  readonly modules: readonly ModuleVersion[];
  readonly lastUser?: string;
}

/** One file the service offers [S20], plus the sizes and SHA-256s we add to verify it and its signature file. */
export interface OfferedModule {
  readonly fileName: string;
  readonly signatureFileName: string;
  readonly version: string;
  readonly timestamp: string;
  readonly size: number;
  readonly sha256: string;
  /** OUR MODEL: size and SHA-256 (lower-case hex) of `signatureFileName`, fetched beside the image. */
  readonly signatureSize: number;
  readonly signatureSha256: string;
}

export interface DeviceUpdateAnswer {
  /** Where the files are, e.g. http://pool01/RequestHandler/Files/UCPhone/Polycom/CX600/A/ENU/4.0.7577.4420/CPE [S21]. */
  readonly baseUrl: string | null;
  readonly externalBaseUrl: string | null;
  /** Empty when there is no update for this device. */
  readonly modules: readonly OfferedModule[];
}

/** Path segments (vendor, model, revision, locale, device type): no separators, no dots-only names. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
const VERSION = /^[0-9]{1,9}(?:\.[0-9]{1,9}){0,3}$/;
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const MAC = /^[0-9A-Fa-f]{2}(?:[-:]?[0-9A-Fa-f]{2}){5}$/;
const SERIAL = /^[A-Za-z0-9._-]{1,64}$/;
const TIMESTAMP = /^[0-9A-Za-z:.+-]{0,40}$/;
/** 1 GiB: far above any phone image (tens of MB), so a hostile size cannot exhaust a disk. */
export const MAX_IMAGE_SIZE = 1024 * 1024 * 1024;
/** 16 MiB: a signature (catalog) file is kilobytes; anything far bigger is hostile. */
export const MAX_SIGNATURE_SIZE = 16 * 1024 * 1024;

/**
 * Caps on ONE answer: each image is bounded by MAX_IMAGE_SIZE, but a 64 KiB answer could list ~170
 * modules. A phone runs a handful of modules; 16 and 2 GiB in all leave room and bound the disk use.
 */
export const MAX_OFFERED_MODULES = 16;
export const MAX_OFFER_BYTES = 2 * 1024 * 1024 * 1024;

/** Bytes an offer asks to download: every image and its signature file. */
export function offerBytes(modules: readonly Pick<OfferedModule, 'size' | 'signatureSize'>[]): number {
  return modules.reduce((sum, m) => sum + m.size + m.signatureSize, 0);
}

/** A decimal byte count in 0..max, or null. */
function byteCount(text: string, max: number): number | null {
  const n = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  return n >= 0 && n <= max ? n : null;
}

export const isPathSegment = (s: string): boolean => SEGMENT.test(s);
export const isVersion = (s: string): boolean => VERSION.test(s);
export const isFileName = (s: string): boolean => FILE_NAME.test(s) && !s.includes('..');

/** Normalises a MAC address to the dashed upper-case form, e.g. 00-04-F2-12-34-56. */
export function normaliseMac(mac: string): string {
  if (!MAC.test(mac)) throw new TetherError('BAD_INPUT', `'${mac}' is not a MAC address.`, { detail: { mac } });
  return mac.replace(/[-:]/g, '').toUpperCase().match(/../g)!.join('-');
}

/** `<DeviceType>/<Vendor>/<Model>/<Revision>/<Locale>/<Version>/CPE` [S21]. */
export function storePath(p: { deviceType: string; vendor: string; model: string; revision: string; locale: string }, version: string): string {
  for (const [field, value] of Object.entries({ deviceType: p.deviceType, vendor: p.vendor, model: p.model, revision: p.revision, locale: p.locale })) {
    if (!isPathSegment(value)) throw new TetherError('BAD_INPUT', `${field} '${value}' cannot be part of a store path.`, { detail: { field } });
  }
  if (!isVersion(version)) throw new TetherError('BAD_INPUT', `'${version}' is not a version such as 4.0.7577.4420.`, { detail: { version } });
  return `${p.deviceType}/${p.vendor}/${p.model}/${p.revision}/${p.locale}/${version}/CPE`;
}

export function formatModules(modules: readonly ModuleVersion[]): string {
  return modules.map((m) => `${m.fileName};${m.version};${m.timestamp}`).join('#');
}

export function parseModules(text: string): ModuleVersion[] {
  if (text.trim() === '') return [];
  return text.split('#').map((entry) => {
    const [fileName = '', version = '', timestamp = '', ...rest] = entry.split(';');
    if (rest.length > 0 || !isFileName(fileName) || !isVersion(version) || !TIMESTAMP.test(timestamp)) {
      throw new TetherError('BAD_INPUT', `Module entry '${entry.slice(0, 80)}' is not 'filename;version;timestamp'.`);
    }
    return { fileName, version, timestamp };
  });
}

function checkIdentity(id: DeviceIdentity): void {
  for (const field of ['deviceType', 'vendor', 'model', 'revision', 'locale'] as const) {
    if (!isPathSegment(id[field])) throw new TetherError('BAD_INPUT', `${field} '${id[field]}' is not a plain name.`, { detail: { field } });
  }
  normaliseMac(id.mac);
  if (!SERIAL.test(id.serial)) throw new TetherError('BAD_INPUT', `Serial number '${id.serial}' is not letters, digits, '.', '_' or '-'.`);
  parseModules(formatModules(id.modules));
}

const el = (name: string, value: string) => `  <${name}>${escapeXml(value)}</${name}>\n`;

export function encodeDeviceUpdateRequest(id: DeviceIdentity): string {
  checkIdentity(id);
  return (
    `<?xml version="1.0" encoding="utf-8"?>\n<DeviceUpdateRequest xmlns="${DEVICE_UPDATE_NS}">\n` +
    el('DeviceType', id.deviceType) +
    el('MacAddress', normaliseMac(id.mac)) +
    el('SerialNumber', id.serial) +
    el('Vendor', id.vendor) +
    el('Model', id.model) +
    el('Revision', id.revision) +
    el('Locale', id.locale) +
    el('RequestModules', formatModules(id.modules)) +
    (id.lastUser === undefined ? '' : el('LastSignedInUser', id.lastUser)) +
    '</DeviceUpdateRequest>\n'
  );
}

function root(xml: string | Uint8Array, local: string, code: 'BAD_INPUT' | 'UPDATE_RESPONSE_MALFORMED'): XmlElement {
  let doc: XmlElement;
  try {
    doc = parseXml(xml, { maxBytes: MAX_DEVICE_UPDATE_XML, stage: 'check-update' });
  } catch (err) {
    const e = toTetherError(err);
    throw new TetherError(code, `The Device Update ${local === 'DeviceUpdateRequest' ? 'request' : 'answer'} is not usable XML: ${e.message}`, {
      stage: 'check-update',
      detail: { xmlError: e.code },
      cause: err,
    });
  }
  if (doc.ns !== DEVICE_UPDATE_NS || doc.local !== local) {
    throw new TetherError(code, `Expected <${local}> in ${DEVICE_UPDATE_NS}, got <${doc.local}> in '${doc.ns}'.`, {
      stage: 'check-update',
      detail: { root: doc.local, ns: doc.ns },
    });
  }
  return doc;
}

function text(parent: XmlElement, local: string, code: 'BAD_INPUT' | 'UPDATE_RESPONSE_MALFORMED', optional: true): string | undefined;
function text(parent: XmlElement, local: string, code: 'BAD_INPUT' | 'UPDATE_RESPONSE_MALFORMED', optional?: false): string;
function text(parent: XmlElement, local: string, code: 'BAD_INPUT' | 'UPDATE_RESPONSE_MALFORMED', optional = false): string | undefined {
  const found = parent.childrenNamed(DEVICE_UPDATE_NS, local);
  if (found.length > 1) throw new TetherError(code, `<${parent.local}> has <${local}> twice.`, { stage: 'check-update' });
  if (found.length === 0) {
    if (optional) return undefined;
    throw new TetherError(code, `<${parent.local}> has no <${local}>.`, { stage: 'check-update', detail: { missing: local } });
  }
  if (found[0]!.children.length > 0) throw new TetherError(code, `<${local}> must hold text only.`, { stage: 'check-update' });
  return found[0]!.text.trim();
}

/** The service side (the lab) reads a request; anything off is BAD_INPUT (HTTP 400). */
export function decodeDeviceUpdateRequest(xml: string | Uint8Array): DeviceIdentity {
  const doc = root(xml, 'DeviceUpdateRequest', 'BAD_INPUT');
  const t = (name: string) => text(doc, name, 'BAD_INPUT');
  const lastUser = text(doc, 'LastSignedInUser', 'BAD_INPUT', true);
  const id: DeviceIdentity = {
    deviceType: t('DeviceType'),
    mac: t('MacAddress'),
    serial: t('SerialNumber'),
    vendor: t('Vendor'),
    model: t('Model'),
    revision: t('Revision'),
    locale: t('Locale'),
    modules: parseModules(t('RequestModules')),
    ...(lastUser === undefined ? {} : { lastUser }),
  };
  checkIdentity(id);
  return { ...id, mac: normaliseMac(id.mac) };
}

export function encodeDeviceUpdateResponse(answer: DeviceUpdateAnswer): string {
  const modules = answer.modules
    .map(
      (m) =>
        '    <Module>\n' +
        `      <FileName>${escapeXml(m.fileName)}</FileName>\n` +
        `      <SignatureFileName>${escapeXml(m.signatureFileName)}</SignatureFileName>\n` +
        `      <Version>${escapeXml(m.version)}</Version>\n` +
        `      <Timestamp>${escapeXml(m.timestamp)}</Timestamp>\n` +
        `      <Size>${m.size}</Size>\n` +
        `      <Sha256>${escapeXml(m.sha256)}</Sha256>\n` +
        `      <SignatureSize>${m.signatureSize}</SignatureSize>\n` +
        `      <SignatureSha256>${escapeXml(m.signatureSha256)}</SignatureSha256>\n` +
        '    </Module>\n',
    )
    .join('');
  return (
    `<?xml version="1.0" encoding="utf-8"?>\n<DeviceUpdateResponse xmlns="${DEVICE_UPDATE_NS}">\n` +
    (answer.baseUrl === null ? '' : el('BaseURL', answer.baseUrl)) +
    (answer.externalBaseUrl === null ? '' : el('ExternalBaseURL', answer.externalBaseUrl)) +
    (answer.modules.length === 0 ? '' : `  <Modules>\n${modules}  </Modules>\n`) +
    '</DeviceUpdateResponse>\n'
  );
}

function httpUrl(value: string | undefined, field: string): string | null {
  if (value === undefined || value === '') return null;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new TetherError('UPDATE_RESPONSE_MALFORMED', `${field} '${value.slice(0, 200)}' is not a URL.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TetherError('UPDATE_RESPONSE_MALFORMED', `${field} must be http or https, not ${u.protocol}`);
  return value;
}

/** The client reads an answer; a hostile or broken one is UPDATE_RESPONSE_MALFORMED. */
export function decodeDeviceUpdateResponse(xml: string | Uint8Array): DeviceUpdateAnswer {
  const bad = (message: string, detail: Record<string, string | number> = {}) => new TetherError('UPDATE_RESPONSE_MALFORMED', message, { detail });
  const doc = root(xml, 'DeviceUpdateResponse', 'UPDATE_RESPONSE_MALFORMED');
  const baseUrl = httpUrl(text(doc, 'BaseURL', 'UPDATE_RESPONSE_MALFORMED', true), 'BaseURL');
  const externalBaseUrl = httpUrl(text(doc, 'ExternalBaseURL', 'UPDATE_RESPONSE_MALFORMED', true), 'ExternalBaseURL');
  const list = doc.childrenNamed(DEVICE_UPDATE_NS, 'Modules');
  if (list.length > 1) throw bad('<DeviceUpdateResponse> has <Modules> twice.');
  const listed = list[0]?.childrenNamed(DEVICE_UPDATE_NS, 'Module') ?? [];
  const tooLarge = (message: string, detail: Record<string, number>) => new TetherError('UPDATE_OFFER_TOO_LARGE', message, { detail });
  if (listed.length > MAX_OFFERED_MODULES) {
    throw tooLarge(`The answer offers ${listed.length} modules; at most ${MAX_OFFERED_MODULES} are accepted.`, { modules: listed.length, max: MAX_OFFERED_MODULES });
  }
  const modules: OfferedModule[] = listed.map((m) => {
    const t = (name: string) => text(m, name, 'UPDATE_RESPONSE_MALFORMED');
    const fileName = t('FileName');
    const signatureFileName = t('SignatureFileName');
    const version = t('Version');
    const timestamp = t('Timestamp');
    const sizeText = t('Size');
    const sha256 = t('Sha256').toLowerCase();
    const signatureSizeText = t('SignatureSize');
    const signatureSha256 = t('SignatureSha256').toLowerCase();
    if (!isFileName(fileName)) throw bad(`FileName '${fileName.slice(0, 80)}' is not a plain file name.`);
    if (!isFileName(signatureFileName)) throw bad(`SignatureFileName '${signatureFileName.slice(0, 80)}' is not a plain file name.`);
    if (!isVersion(version)) throw bad(`Version '${version.slice(0, 40)}' is not a version such as 4.0.7577.4420.`);
    if (!TIMESTAMP.test(timestamp)) throw bad(`Timestamp '${timestamp.slice(0, 40)}' is not a timestamp.`);
    const size = byteCount(sizeText, MAX_IMAGE_SIZE);
    if (size === null) throw bad(`Size '${sizeText.slice(0, 20)}' is not a byte count up to ${MAX_IMAGE_SIZE}.`);
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw bad(`Sha256 of ${fileName} is not 64 hex digits.`);
    const signatureSize = byteCount(signatureSizeText, MAX_SIGNATURE_SIZE);
    if (signatureSize === null) throw bad(`SignatureSize '${signatureSizeText.slice(0, 20)}' is not a byte count up to ${MAX_SIGNATURE_SIZE}.`);
    if (!/^[0-9a-f]{64}$/.test(signatureSha256)) throw bad(`SignatureSha256 of ${signatureFileName} is not 64 hex digits.`);
    return { fileName, signatureFileName, version, timestamp, size, sha256, signatureSize, signatureSha256 };
  });
  if (modules.length > 0 && baseUrl === null && externalBaseUrl === null) throw bad('The answer offers modules but no BaseURL to fetch them from.');
  const total = offerBytes(modules);
  if (total > MAX_OFFER_BYTES) {
    throw tooLarge(`The answer offers ${total} bytes in all; at most ${MAX_OFFER_BYTES} are accepted.`, { bytes: total, max: MAX_OFFER_BYTES });
  }
  return { baseUrl, externalBaseUrl, modules };
}
