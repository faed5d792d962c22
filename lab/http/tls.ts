import { createSecureContext, type SecureContext } from 'node:tls';
import type { LabCertificate, LabFaults, LabTls } from '../context';

export interface ServerCertificates {
  /** For the pool's names, valid now. */
  good: LabCertificate;
  /** Same names, expired ('server-cert-expired'). */
  expired: LabCertificate;
  /** For a name outside the pool ('server-cert-wrong-name'). */
  wrongName: LabCertificate;
}

/** The name the wrong-name certificate is issued for: a host of another organisation. */
export const WRONG_NAME = 'www.fabrikam.test';

/** The faults that change what a lab TLS server presents (a server must renew its context on them). */
export const CERT_FAULTS: ReadonlySet<string> = new Set(['server-cert-expired', 'server-cert-wrong-name', 'intermediate-missing']);

/**
 * What every lab TLS server presents, chosen from the faults at handshake time: the expired fault
 * wins over the wrong-name one when both are on; 'intermediate-missing' sends the leaf alone.
 */
export function createLabTls(
  serverNames: readonly string[],
  certs: ServerCertificates,
  intermediatePem: string,
  faults: LabFaults,
): LabTls {
  const contexts = new Map<string, SecureContext>();
  const current = () => {
    const leaf = faults.has('server-cert-expired')
      ? certs.expired
      : faults.has('server-cert-wrong-name')
        ? certs.wrongName
        : certs.good;
    const chain = faults.has('intermediate-missing') ? leaf.certPem : leaf.certPem.trimEnd() + '\n' + intermediatePem;
    return { key: leaf.keyPem, cert: chain };
  };
  const secureContext = () => {
    const opts = current();
    const id = `${faults.has('server-cert-expired')}/${faults.has('server-cert-wrong-name')}/${faults.has('intermediate-missing')}`;
    let ctx = contexts.get(id);
    if (!ctx) {
      ctx = createSecureContext(opts);
      contexts.set(id, ctx);
    }
    return ctx;
  };
  return {
    serverNames,
    current,
    secureContext,
    attach(server) {
      server.setSecureContext(current());
      return faults.onChange((fault) => {
        if (CERT_FAULTS.has(fault)) server.setSecureContext(current());
      });
    },
  };
}
