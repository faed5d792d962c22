import { TetherError } from '../../errors';
import { escapeXml, parseXml, type XmlElement } from '../../xml';

/**
 * In-band provisioning values carried in the registrar's 200 OK (OUR MODEL, see
 * docs/pool/registrar.md). Real Lync sends them in a NOTIFY for a `vnd-microsoft-provisioning-v2`
 * SUBSCRIBE [S29 sipe-subscriptions.c][S32]; we keep that document's shape — a provisionGroupList
 * with a ServerConfiguration group of named properties — and the documented property names [S25],
 * but put it in the REGISTER answer so one exchange covers stage 9.
 */

export const PROVISIONING_CONTENT_TYPE = 'application/vnd-microsoft-roaming-provisioning-v2+xml';
export const PROVISIONING_NS = 'http://schemas.microsoft.com/2006/09/sip/provisiongrouplist-notification';
/** Largest provisioning body we read (the real one is a few KiB). */
export const MAX_PROVISIONING_BYTES = 32 * 1024;

export interface RegistrarProvisioning {
  /** The Registrar to use from now on (the phone then flushes its DHCP/DNS cache [S13]). */
  readonly registrarFqdn: string;
  /** `updatesserverinternalurl`: …/RequestHandler/ucdevice.upx [S25][S24]. */
  readonly deviceUpdateInternalUrl: string;
  /** `updatesserverexternalurl`: …/RequestHandlerExt/ucdevice.upx. */
  readonly deviceUpdateExternalUrl: string;
  /** `ucenforcepinlock`: the phone must be locked with a PIN. */
  readonly enforcePinLock: boolean;
  /** `ucminpinlength`: shortest PIN the phone accepts. */
  readonly minPinLength: number;
  /** `ucphonetimeout`: idle time before the phone locks, in seconds (sent as h:mm:ss). */
  readonly phoneTimeoutSeconds: number;
}

/** Property names on the wire: documented ones [S25] lower-cased as UCMA shows them, plus ours. */
export const PROVISIONING_PROPERTY = {
  registrarFqdn: 'registrarfqdn', // OURS: the documented list has no plain Registrar FQDN item
  deviceUpdateInternalUrl: 'updatesserverinternalurl',
  deviceUpdateExternalUrl: 'updatesserverexternalurl',
  enforcePinLock: 'ucenforcepinlock',
  minPinLength: 'ucminpinlength',
  phoneTimeoutSeconds: 'ucphonetimeout',
} as const satisfies Record<keyof RegistrarProvisioning, string>;

function formatTimespan(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

export function buildProvisioningBody(p: RegistrarProvisioning): string {
  if (!Number.isInteger(p.minPinLength) || p.minPinLength < 0 || !Number.isInteger(p.phoneTimeoutSeconds) || p.phoneTimeoutSeconds < 0) {
    throw new TetherError('BAD_INPUT', 'PIN length and phone timeout must be whole non-negative numbers.');
  }
  const values: Record<keyof RegistrarProvisioning, string> = {
    registrarFqdn: p.registrarFqdn,
    deviceUpdateInternalUrl: p.deviceUpdateInternalUrl,
    deviceUpdateExternalUrl: p.deviceUpdateExternalUrl,
    enforcePinLock: p.enforcePinLock ? 'true' : 'false',
    minPinLength: String(p.minPinLength),
    phoneTimeoutSeconds: formatTimespan(p.phoneTimeoutSeconds),
  };
  const props = (Object.keys(PROVISIONING_PROPERTY) as (keyof RegistrarProvisioning)[])
    .map((k) => `      <property name="${PROVISIONING_PROPERTY[k]}">${escapeXml(values[k])}</property>`)
    .join('\n');
  return [
    `<provisionGroupList xmlns="${PROVISIONING_NS}">`,
    '  <provisionGroup name="ServerConfiguration">',
    '    <propertyEntryList>',
    props,
    '    </propertyEntryList>',
    '  </provisionGroup>',
    '</provisionGroupList>',
    '',
  ].join('\n');
}

function bad(message: string, detail: Record<string, string | number> = {}): TetherError {
  return new TetherError('REGISTRAR_PROVISIONING_MALFORMED', message, { detail });
}

function properties(root: XmlElement): Map<string, string> {
  if (root.ns !== PROVISIONING_NS || root.local !== 'provisionGroupList') {
    throw bad('The provisioning document is not a provisionGroupList.', { root: root.local });
  }
  const group = root.childrenNamed(PROVISIONING_NS, 'provisionGroup').find((g) => g.attr('name') === 'ServerConfiguration');
  if (!group) throw bad('The provisioning document has no ServerConfiguration group.');
  const list = group.child(PROVISIONING_NS, 'propertyEntryList');
  if (!list) throw bad('The ServerConfiguration group has no propertyEntryList.');
  const out = new Map<string, string>();
  for (const prop of list.childrenNamed(PROVISIONING_NS, 'property')) {
    const name = prop.attr('name');
    if (name === undefined) throw bad('A provisioning property has no name.');
    // Lync's own casing of these names is not published [U]; compare lower-cased.
    out.set(name.toLowerCase(), prop.text.trim());
  }
  return out;
}

function httpsUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad(`Provisioning value ${name} is not a URL.`, { property: name });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(`Provisioning value ${name} is not an http(s) URL.`, { property: name });
  return url.toString();
}

/** Reads the provisioning body of a registrar's 200 OK; anything missing or odd is a typed error. */
export function parseProvisioningBody(body: Uint8Array | string): RegistrarProvisioning {
  let root: XmlElement;
  try {
    root = parseXml(body, { maxBytes: MAX_PROVISIONING_BYTES, stage: 'logon' });
  } catch (err) {
    // One code for the caller to map; the XML error (too large, DTD, malformed) stays as cause.
    const code = err instanceof TetherError ? err.code : 'unknown';
    throw new TetherError('REGISTRAR_PROVISIONING_MALFORMED', 'The provisioning document is not acceptable XML.', {
      detail: { xmlError: code },
      cause: err,
    });
  }
  const props = properties(root);
  const get = (key: keyof RegistrarProvisioning): string => {
    const name = PROVISIONING_PROPERTY[key];
    const v = props.get(name);
    if (v === undefined || v === '') throw bad(`Provisioning value ${name} is missing.`, { property: name });
    return v;
  };
  const registrarFqdn = get('registrarFqdn').toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/.test(registrarFqdn)) {
    throw bad('Provisioning value registrarfqdn is not an FQDN.', { property: PROVISIONING_PROPERTY.registrarFqdn });
  }
  const lock = get('enforcePinLock').toLowerCase();
  if (lock !== 'true' && lock !== 'false') throw bad('Provisioning value ucenforcepinlock is not true/false.', { property: 'ucenforcepinlock' });
  const pinLen = get('minPinLength');
  if (!/^[0-9]{1,3}$/.test(pinLen)) throw bad('Provisioning value ucminpinlength is not a number.', { property: 'ucminpinlength' });
  const timeout = /^([0-9]{1,3}):([0-5][0-9]):([0-5][0-9])$/.exec(get('phoneTimeoutSeconds'));
  if (!timeout) throw bad('Provisioning value ucphonetimeout is not h:mm:ss.', { property: 'ucphonetimeout' });
  return {
    registrarFqdn,
    deviceUpdateInternalUrl: httpsUrl(get('deviceUpdateInternalUrl'), PROVISIONING_PROPERTY.deviceUpdateInternalUrl),
    deviceUpdateExternalUrl: httpsUrl(get('deviceUpdateExternalUrl'), PROVISIONING_PROPERTY.deviceUpdateExternalUrl),
    enforcePinLock: lock === 'true',
    minPinLength: Number(pinLen),
    phoneTimeoutSeconds: Number(timeout[1]) * 3600 + Number(timeout[2]) * 60 + Number(timeout[3]),
  };
}
