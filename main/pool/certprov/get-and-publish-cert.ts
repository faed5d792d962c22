import { X509Certificate, randomUUID } from 'node:crypto';
import { TetherError } from '../../../common/errors';
import {
  ERROR_INFO_CODES,
  SOAP_ACTION_GET_AND_PUBLISH_CERT,
  buildGetAndPublishCertRequest,
  parseGetAndPublishCertResponse,
} from '../../../common/pool/certprov-wire';
import { checkCsrDer, csrDerFromText } from '../../../common/pool/csr-check';
import type { IssuedWebTicket } from '../auth/webticket';
import { answerDetail, readSoapAnswer, type SoapAnswer } from '../auth/soap-answer';
import type { PoolHttpClient } from '../net/http';
import { requireHttps } from '../auth/require-https';

/**
 * Stage 8: relay the phone's PKCS#10 request to CertProv GetAndPublishCert with the web ticket,
 * and hand back the issued certificate and its chain (docs/pool/certprov.md).
 * The phone's private key never reaches Tether; we check that the certificate carries the CSR's key.
 */

export interface GetAndPublishCertOptions {
  readonly http: PoolHttpClient;
  /** The CertProv port URL (the ticket's AppliesTo). */
  readonly url: string;
  readonly ticket: IssuedWebTicket;
  /** The phone's PKCS#10 request, PEM. */
  readonly csrPem: string;
  /** The phone's device GUID. */
  readonly deviceId: string;
  /** `user@domain` (a `sip:` prefix is dropped). */
  readonly entity: string;
  readonly requestId?: string;
  readonly now?: () => number;
}

export interface IssuedCertificate {
  readonly certificatePem: string;
  /** The issuing chain, issuer first (intermediate…root), as the server sent it. */
  readonly chainPems: string[];
}

export async function getAndPublishCert(opts: GetAndPublishCertOptions): Promise<IssuedCertificate> {
  requireHttps(opts.url, 'CERTPROV_NOT_HTTPS', 'Certificate Provisioning');
  const csrKey = checkCsr(opts.csrPem);
  const now = (opts.now ?? Date.now)();
  if (opts.ticket.isExpired(now)) {
    throw new TetherError('CERTPROV_TICKET_REJECTED', 'The web ticket expired before the certificate request; sign in again.', {
      detail: { expires: opts.ticket.ticket.expires },
    });
  }
  const entity = opts.entity.replace(/^sip:/i, '');
  if (!/^[^@\s<>"]+@[A-Za-z0-9.-]+$/.test(entity)) {
    throw new TetherError('BAD_INPUT', 'The user for the certificate must look like user@domain.', { stage: 'certificate', detail: { field: 'entity' } });
  }
  const xml = buildGetAndPublishCertRequest({
    to: opts.url,
    security: opts.ticket.securityHeader(),
    csrPem: opts.csrPem,
    deviceId: opts.deviceId,
    entity,
    requestId: opts.requestId ?? randomUUID(),
  });
  const body = Buffer.from(xml, 'utf8');
  let answer: SoapAnswer;
  try {
    const res = await opts.http.request({
      url: opts.url,
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${SOAP_ACTION_GET_AND_PUBLISH_CERT}"` },
      body,
      stage: 'certificate',
      acceptStatus: () => true,
    });
    answer = readSoapAnswer(res, 'certificate');
  } finally {
    body.fill(0); // held the ticket
  }
  if (answer.status !== 200 || !answer.envelope || answer.faultString !== null) throw certProvFailure(answer, opts.url);
  const result = parseGetAndPublishCertResponse(answer.envelope);
  if (result.kind === 'error') {
    const detail = { ...answerDetail(answer, opts.url), errorCode: result.code.slice(0, 100), reason: result.message.slice(0, 200) };
    const publish = result.code === ERROR_INFO_CODES.publishFailed || /data ?store|store unavailable|publish/i.test(`${result.code} ${result.message}`);
    throw new TetherError(
      publish ? 'CERTPROV_PUBLISH_FAILED' : 'CERTPROV_REQUEST_REJECTED',
      `${publish ? 'The certificate could not be published' : 'The certificate request was refused'}: ${result.message.slice(0, 200) || result.code}`,
      { detail },
    );
  }
  const leafKey = new X509Certificate(result.certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  if (!leafKey.equals(csrKey)) {
    throw new TetherError('CERTPROV_BAD_RESPONSE', 'The issued certificate does not carry the phone\'s public key.', {
      detail: { url: answerDetail(answer, opts.url).url as string },
    });
  }
  return { certificatePem: result.certificatePem, chainPems: result.chainPems };
}

/**
 * Checks the phone's CSR with the shared bounded check (key size and exponent before the
 * signature, common/pool/csr-check.ts); returns its public key (SPKI DER).
 */
function checkCsr(csrPem: string): Buffer {
  const der = csrDerFromText(csrPem);
  const check = der === null ? null : checkCsrDer(der);
  if (check?.ok) return check.spkiDer;
  throw new TetherError('BAD_INPUT', `The phone's certificate request (PKCS#10) is not valid: ${check?.message ?? 'it is not PEM.'}`, {
    stage: 'certificate',
    detail: { problem: check?.problem ?? 'malformed' },
  });
}

/** Maps a CertProv failure (status, SOAP fault, diagnostics) to its typed error (stage 8). */
export function certProvFailure(a: SoapAnswer, url: string): TetherError {
  const detail = { ...answerDetail(a, url), ...(a.webTicketUrl ? { webTicketUrl: a.webTicketUrl } : {}) };
  if (a.status === 401) return new TetherError('CERTPROV_TICKET_REJECTED', undefined, { detail });
  if (a.status === 403) {
    return new TetherError('CERTPROV_REQUEST_REJECTED', 'The Certificate Provisioning service refused the request (HTTP 403).', { detail });
  }
  if (a.status >= 500 || a.faultString !== null) {
    const why = a.diagnostics?.reason ?? a.faultString;
    return new TetherError('CERTPROV_SERVICE_ERROR', `The Certificate Provisioning service failed (HTTP ${a.status})${why ? `: ${why.slice(0, 200)}` : ''}.`, { detail });
  }
  return new TetherError('CERTPROV_BAD_RESPONSE', `The Certificate Provisioning service answered HTTP ${a.status} without a usable SOAP document.`, { detail });
}
