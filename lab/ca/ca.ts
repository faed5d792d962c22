import { X509Certificate, generateKeyPair, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { TetherError } from '../../common/errors';
import type { LabCa, LabCertificate } from '../context';
import { readStateFile, writeFileAtomic } from '../state';
import { buildCert, toPem, type Subject } from './forge-cert';
import { parseCsr } from './csr';

const generateKeyPairAsync = promisify(generateKeyPair);
const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** Key size of every lab key (CA and servers): enough for the lab, quick to generate. */
const KEY_BITS = 2048;
/** Longest user certificate the lab issues (MaxValidityPeriodHours' default, [S30]). */
export const MAX_VALIDITY_HOURS = 8760;
/** Back-dating of notBefore so a client whose clock is a little behind accepts a fresh certificate. */
const BACKDATE_MS = 5 * 60_000;

export interface LabCaOptions {
  /** Folder for the CA's keys and certificates (created when missing). */
  dir: string;
  /** Shown in the CA names, e.g. contoso.test. */
  domain: string;
  now?: () => Date;
}

/** The files of a persisted CA, relative to its folder. */
export const CA_FILES = {
  rootKey: 'root-key.pem',
  rootCert: 'root-cert.pem',
  intermediateKey: 'intermediate-key.pem',
  intermediateCert: 'intermediate-cert.pem',
} as const;

export interface PersistentLabCa extends LabCa {
  /** Path of the root certificate PEM, for clients to trust. */
  readonly rootCertPath: string;
  readonly intermediateCertPath: string;
  /** issueServerCert without blocking the event loop while the key is made. */
  issueServerCertAsync(dnsNames: string[], options?: ServerCertOptions): Promise<LabCertificate>;
}

export interface ServerCertOptions {
  expired?: boolean;
  /** IP addresses to add as iPAddress SANs (e.g. 127.0.0.1 so clients that dial the address verify). */
  ips?: string[];
}

interface KeyPairPem {
  publicKey: string;
  privateKey: string;
}

const rsaOptions = {
  modulusLength: KEY_BITS,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
} as const;

const newKeyPairAsync = (): Promise<KeyPairPem> => generateKeyPairAsync('rsa', rsaOptions);
const newKeyPairSync = (): KeyPairPem => generateKeyPairSync('rsa', rsaOptions);

/** SHA-256 of the DER, upper-case hex with colons. */
export function fingerprint256(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** Loads the CA from `dir`, or makes a root and an intermediate there on first use. */
export async function openLabCa(options: LabCaOptions): Promise<PersistentLabCa> {
  const now = options.now ?? (() => new Date());
  const paths = {
    rootKey: join(options.dir, CA_FILES.rootKey),
    rootCert: join(options.dir, CA_FILES.rootCert),
    intermediateKey: join(options.dir, CA_FILES.intermediateKey),
    intermediateCert: join(options.dir, CA_FILES.intermediateCert),
  };
  const stored = await Promise.all([
    readStateFile(paths.rootKey),
    readStateFile(paths.rootCert),
    readStateFile(paths.intermediateKey),
    readStateFile(paths.intermediateCert),
  ]);
  let material: { rootKey: string; rootCert: string; intKey: string; intCert: string };
  if (stored.every((s) => s === undefined)) {
    material = await createCaMaterial(options.domain, now());
    await writeFileAtomic(paths.rootKey, material.rootKey, 0o600);
    await writeFileAtomic(paths.intermediateKey, material.intKey, 0o600);
    await writeFileAtomic(paths.intermediateCert, material.intCert);
    await writeFileAtomic(paths.rootCert, material.rootCert);
  } else if (stored.some((s) => s === undefined)) {
    throw new TetherError('LAB_STATE_CORRUPT', `The CA folder ${options.dir} is incomplete (a key or certificate is missing).`, {
      detail: { path: options.dir },
    });
  } else {
    const [rootKey, rootCert, intKey, intCert] = stored as [string, string, string, string];
    material = { rootKey, rootCert, intKey, intCert };
  }
  return makeCa(material, paths, now);
}

async function createCaMaterial(domain: string, at: Date) {
  const [root, int] = await Promise.all([newKeyPairAsync(), newKeyPairAsync()]);
  const rootKey = forge.pki.privateKeyFromPem(root.privateKey) as forge.pki.rsa.PrivateKey;
  const rootCert = buildCert({
    subject: [
      { shortName: 'CN', value: `Tether Lab Root CA (${domain})` },
      { shortName: 'O', value: 'Tether Lab' },
    ],
    publicKey: forge.pki.publicKeyFromPem(root.publicKey),
    notBefore: new Date(at.getTime() - DAY),
    notAfter: new Date(at.getTime() + 20 * 365 * DAY),
    selfKey: rootKey,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const intCert = buildCert({
    subject: [
      { shortName: 'CN', value: `Tether Lab Issuing CA 1 (${domain})` },
      { shortName: 'O', value: 'Tether Lab' },
    ],
    publicKey: forge.pki.publicKeyFromPem(int.publicKey),
    notBefore: new Date(at.getTime() - DAY),
    notAfter: new Date(at.getTime() + 10 * 365 * DAY),
    issuer: { cert: rootCert, key: rootKey },
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { rootKey: root.privateKey, rootCert: toPem(rootCert), intKey: int.privateKey, intCert: toPem(intCert) };
}

function makeCa(
  material: { rootKey: string; rootCert: string; intKey: string; intCert: string },
  paths: { rootCert: string; intermediateCert: string },
  now: () => Date,
): PersistentLabCa {
  let rootCert: forge.pki.Certificate;
  let intCert: forge.pki.Certificate;
  let intKey: forge.pki.rsa.PrivateKey;
  try {
    rootCert = forge.pki.certificateFromPem(material.rootCert);
    intCert = forge.pki.certificateFromPem(material.intCert);
    intKey = forge.pki.privateKeyFromPem(material.intKey) as forge.pki.rsa.PrivateKey;
    forge.pki.privateKeyFromPem(material.rootKey);
  } catch (err) {
    throw new TetherError('LAB_STATE_CORRUPT', 'The CA keys or certificates in the state folder cannot be parsed.', {
      detail: { path: paths.rootCert },
      cause: err,
    });
  }
  if (!rootCert.verify(intCert)) {
    throw new TetherError('LAB_STATE_CORRUPT', 'The stored intermediate CA is not signed by the stored root.', {
      detail: { path: paths.intermediateCert },
    });
  }
  const issuer = { cert: intCert, key: intKey };

  const serverCert = (pair: KeyPairPem, dnsNames: string[], options: ServerCertOptions): LabCertificate => {
    if (dnsNames.length === 0) throw new TetherError('BAD_INPUT', 'A server certificate needs at least one DNS name.');
    const t = now().getTime();
    const [notBefore, notAfter] = options.expired ? [t - 60 * DAY, t - DAY] : [t - DAY, t + 365 * DAY];
    const cert = buildCert({
      subject: [
        { shortName: 'CN', value: dnsNames[0]! },
        { shortName: 'O', value: 'Tether Lab' },
      ],
      publicKey: forge.pki.publicKeyFromPem(pair.publicKey),
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      issuer,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        // clientAuth too: Lync servers use the same certificate for MTLS between pool servers.
        { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            ...dnsNames.map((value) => ({ type: 2, value })),
            ...(options.ips ?? []).map((ip) => ({ type: 7, ip })),
          ],
        },
      ],
    });
    return { certPem: toPem(cert), keyPem: pair.privateKey };
  };

  return {
    rootCertPem: material.rootCert,
    intermediateCertPem: material.intCert,
    rootCertPath: paths.rootCert,
    intermediateCertPath: paths.intermediateCert,
    rootFingerprint: fingerprint256(material.rootCert),
    chainPems: () => [material.intCert, material.rootCert],
    issueServerCert: (dnsNames, options = {}) => serverCert(newKeyPairSync(), dnsNames, options),
    issueServerCertAsync: async (dnsNames, options = {}) => serverCert(await newKeyPairAsync(), dnsNames, options),
    issueFromCsr(csrPem, sipUri, validityHours) {
      if (!/^sip:[^@\s<>"]+@[A-Za-z0-9.-]+$/.test(sipUri)) {
        throw new TetherError('BAD_INPUT', `Not a SIP URI: '${sipUri.slice(0, 80)}'.`, { stage: 'certificate' });
      }
      if (!Number.isFinite(validityHours) || validityHours <= 0 || validityHours > MAX_VALIDITY_HOURS) {
        throw new TetherError('BAD_INPUT', `Validity must be 1–${MAX_VALIDITY_HOURS} hours, not ${validityHours}.`, {
          stage: 'certificate',
        });
      }
      const csr = parseCsr(csrPem);
      const t = now().getTime();
      const subject: Subject = [{ shortName: 'CN', value: sipUri }];
      const cert = buildCert({
        subject,
        publicKey: csr.publicKey,
        notBefore: new Date(t - BACKDATE_MS),
        notAfter: new Date(t + validityHours * HOUR),
        issuer,
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', clientAuth: true },
          { name: 'subjectAltName', altNames: [{ type: 6, value: sipUri }] },
        ],
      });
      return toPem(cert);
    },
  };
}
