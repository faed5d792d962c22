import forge from 'node-forge';
import { TetherError } from '../../../common/errors';
import { parseStrictDer as parse } from '../../../common/pool/chain/pkcs7';

/**
 * The CA fields Node's X509Certificate does not expose one by one (its `ca` folds basic
 * constraints and key usage together): basicConstraints' cA and pathLenConstraint and keyUsage's
 * keyCertSign bit (RFC 5280 §4.2.1.9, §4.2.1.3), so each failure gets its own typed error. Read straight from the DER with
 * forge's ASN.1 reader, so EC certificates (which forge cannot model) work too.
 */

export interface CaConstraints {
  /** basicConstraints cA; undefined = no basicConstraints extension. */
  readonly cA: boolean | undefined;
  /** Most non-self-issued CA certificates allowed below this one; undefined = no limit. */
  readonly pathLen: number | undefined;
  /** Whether keyUsage allows signing certificates; undefined = no keyUsage extension. */
  readonly keyCertSign: boolean | undefined;
}

const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
/** keyCertSign is bit 5 of KeyUsage: in the first content byte, counted from the top bit. */
const KEY_CERT_SIGN_MASK = 0x80 >> 5;

function malformed(subject: string): TetherError {
  return new TetherError('CHAIN_MALFORMED', `The CA limits (basic constraints or key usage) of '${subject}' cannot be read.`, {
    detail: { reason: 'bad-extension', subject },
  });
}

function children(n: forge.asn1.Asn1 | undefined): forge.asn1.Asn1[] {
  if (!n || !Array.isArray(n.value)) throw new Error('not constructed');
  return n.value;
}

function primitive(n: forge.asn1.Asn1 | undefined, type: number): string {
  if (!n || n.tagClass !== forge.asn1.Class.UNIVERSAL || n.type !== type || typeof n.value !== 'string') throw new Error('unexpected element');
  return n.value;
}

/** The extnValue bytes of each extension in a certificate's DER, by OID. */
function extensionsOf(der: Uint8Array): Map<string, string> {
  const tbs = children(children(parse(Buffer.from(der).toString('binary')))[0]);
  // extensions = [3] EXPLICIT, the only context tag 3 in TBSCertificate.
  const tagged = tbs.find((n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  const out = new Map<string, string>();
  if (!tagged) return out;
  for (const ext of children(children(tagged)[0])) {
    const parts = children(ext);
    const oid = forge.asn1.derToOid(primitive(parts[0], forge.asn1.Type.OID));
    out.set(oid, primitive(parts[parts.length - 1], forge.asn1.Type.OCTETSTRING));
  }
  return out;
}

function basicConstraintsOf(value: string): { cA: boolean; pathLen: number | undefined } {
  // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
  const fields = children(parse(value));
  const isUniversal = (type: number) => (n: forge.asn1.Asn1) => n.tagClass === forge.asn1.Class.UNIVERSAL && n.type === type;
  const flag = fields.find(isUniversal(forge.asn1.Type.BOOLEAN));
  const integer = fields.find(isUniversal(forge.asn1.Type.INTEGER));
  const cA = flag !== undefined && primitive(flag, forge.asn1.Type.BOOLEAN) !== '\x00';
  if (!integer) return { cA, pathLen: undefined };
  const bytes = primitive(integer, forge.asn1.Type.INTEGER);
  if (bytes.length === 0 || bytes.length > 4 || bytes.charCodeAt(0) & 0x80) throw new Error('bad pathLenConstraint');
  return { cA, pathLen: forge.asn1.derToInteger(bytes) };
}

function keyCertSignOf(value: string): boolean {
  // KeyUsage ::= BIT STRING; the first content byte counts the unused bits.
  const bits = primitive(parse(value), forge.asn1.Type.BITSTRING);
  if (bits.length < 1) throw new Error('empty key usage');
  return bits.length >= 2 && (bits.charCodeAt(1) & KEY_CERT_SIGN_MASK) !== 0;
}

/** The CA limits in a certificate; a damaged extension is CHAIN_MALFORMED naming `subject`. */
export function readCaConstraints(der: Uint8Array, subject: string): CaConstraints {
  try {
    const ext = extensionsOf(der);
    const bc = ext.get(OID_BASIC_CONSTRAINTS);
    const ku = ext.get(OID_KEY_USAGE);
    const basic = bc === undefined ? undefined : basicConstraintsOf(bc);
    return { cA: basic?.cA, pathLen: basic?.pathLen, keyCertSign: ku === undefined ? undefined : keyCertSignOf(ku) };
  } catch {
    throw malformed(subject);
  }
}
