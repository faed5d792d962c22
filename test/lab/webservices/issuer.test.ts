import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../lab';
import { CERTPROV_PROOF_PATH, PIN_PATH, webServices } from '../../../lab/webservices';
import { NS } from '../../../common/pool/soap-envelope';
import { buildPinSecurity } from '../../../common/pool/webticket-pin';
import { buildWebTicketRequest } from '../../../common/pool/webticket-wire';
import { parseXml } from '../../../common/xml';
import { tempDir } from '../support';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;

beforeAll(async () => {
  tmp = tempDir('tether-issuer-');
  lab = await startLab({ stateDir: tmp.dir, services: [webServices] });
});
afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

/** POSTs a PIN RST to the lab over TLS with the Host header given, and returns the ticket's Issuer. */
function issuerWithHost(host: string): Promise<string | undefined> {
  const base = lab.context.httpsBase;
  const body = buildWebTicketRequest({
    to: `${base}${PIN_PATH}`,
    appliesTo: `${base}${CERTPROV_PROOF_PATH}`,
    entropy: Buffer.alloc(0),
    context: 'c',
    security: buildPinSecurity({ phoneOrExt: '103', pin: '97531' }),
  }).replace(/<wst:Entropy>.*<\/wst:Entropy>/, '');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: lab.httpsPort,
        servername: lab.context.poolFqdn,
        ca: lab.ca.rootCertPem,
        method: 'POST',
        path: PIN_PATH,
        headers: { host, 'content-type': 'text/xml' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const doc = parseXml(Buffer.concat(chunks));
          resolve(doc.find(NS.saml, 'Assertion')?.attr('Issuer'));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the web ticket Issuer', () => {
  it('is the service URL on the pool name and port, whatever the client put in Host', async () => {
    const fqdn = lab.context.poolFqdn;
    const expected = `${lab.context.httpsBase}${PIN_PATH}`;
    expect(await issuerWithHost(`${fqdn}:${lab.httpsPort}`)).toBe(expected);
    expect(await issuerWithHost(fqdn)).toBe(expected);
    expect(await issuerWithHost(`127.0.0.1:${lab.httpsPort}`)).toBe(expected);
  });
});
