import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { LabCertificate } from '../context';
import type { ServerCertificates } from '../http/tls';
import { parseStateJson, readStateFile, writeFileAtomic } from '../state';
import type { PersistentLabCa } from './ca';

const FILE = 'server-certs.json';
/** Re-issue the valid server certificate when it has less than this left. */
const MIN_REMAINING_MS = 7 * 24 * 3600_000;

function isCert(v: unknown): v is LabCertificate {
  return typeof v === 'object' && v !== null && typeof (v as LabCertificate).certPem === 'string' && typeof (v as LabCertificate).keyPem === 'string';
}

/**
 * The pool's three server certificates (valid, expired, wrong name), kept in the CA folder so a
 * restart skips three RSA key generations. Any doubt (other names, another intermediate, close
 * to expiry, unreadable file) means issuing fresh ones.
 */
export async function loadOrIssueServerCerts(
  ca: PersistentLabCa,
  dir: string,
  names: readonly string[],
  ips: readonly string[],
  wrongName: string,
  now: () => Date = () => new Date(),
): Promise<ServerCertificates> {
  const file = join(dir, FILE);
  const key = { names: [...names], ips: [...ips], wrongName };
  const cached = await readCached(file, key, ca, now());
  if (cached) return cached;
  const [good, expired, wrong] = await Promise.all([
    ca.issueServerCertAsync([...names], { ips: [...ips] }),
    ca.issueServerCertAsync([...names], { ips: [...ips], expired: true }),
    ca.issueServerCertAsync([wrongName]),
  ]);
  const certs: ServerCertificates = { good, expired, wrongName: wrong };
  await writeFileAtomic(file, JSON.stringify({ version: 1, ...key, certs }, null, 2) + '\n', 0o600);
  return certs;
}

async function readCached(
  file: string,
  key: { names: string[]; ips: string[]; wrongName: string },
  ca: PersistentLabCa,
  at: Date,
): Promise<ServerCertificates | undefined> {
  try {
    const text = await readStateFile(file);
    if (text === undefined) return undefined;
    const doc = parseStateJson(file, text) as Record<string, unknown>;
    if (doc.version !== 1 || JSON.stringify([doc.names, doc.ips, doc.wrongName]) !== JSON.stringify([key.names, key.ips, key.wrongName])) {
      return undefined;
    }
    const certs = doc.certs as Record<string, unknown> | undefined;
    const { good, expired, wrongName } = certs ?? {};
    if (!isCert(good) || !isCert(expired) || !isCert(wrongName)) return undefined;
    const issuer = new X509Certificate(ca.intermediateCertPem);
    for (const c of [good, expired, wrongName]) {
      const x = new X509Certificate(c.certPem);
      if (!x.checkIssued(issuer) || !x.verify(issuer.publicKey)) return undefined;
    }
    if (new Date(new X509Certificate(good.certPem).validTo).getTime() - at.getTime() < MIN_REMAINING_MS) return undefined;
    return { good, expired, wrongName };
  } catch {
    return undefined;
  }
}
