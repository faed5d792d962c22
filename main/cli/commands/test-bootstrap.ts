import { X509Certificate, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import forge from 'node-forge';
import { TetherError } from '../../../common/errors';
import { provisionCertificate } from '../../pool/certprov';
import type { WebTicketAuth } from '../../pool/auth/webticket';
import { PoolHttpClient } from '../../pool/net/http';
import { createPoolResolver } from '../../pool/net/resolver';
import { EXIT, usageError, type CliIO, type Command } from '../io';
import { parseAccount } from './test-auth';

const USAGE = `Usage: tether test-bootstrap --certprov URL (--phone NUMBER|EXT | --ntlm 'DOMAIN\\user' --sip sip:user@domain)
                              [--csr FILE] [--device-id GUID] [--dns HOST:PORT] [--ca FILE] [--json]

Runs stages 7 and 8 as a phone would (in the spirit of Test-CsPhoneBootstrap): reads the
CertProv and WebTicket mex documents, gets a web ticket with the PIN or with Windows (NTLM)
credentials, then calls GetAndPublishCert and shows the issued certificate and its chain.
The certificate is published to the user's store, as a phone's sign-in would publish it.

Without --csr a throwaway RSA-2048 key and request are made in memory and discarded (the key is
never written anywhere). The PIN comes from TETHER_PIN and the password from TETHER_PASSWORD,
or each is asked for on the terminal without echo; neither is taken from the command line.

  --certprov URL     e.g. https://pool01.contoso.com/CertProv/CertProvisioningService.svc
  --phone N          phone number or extension, for PIN sign-in
  --ntlm DOMAIN\\user the Windows account, for NTLM sign-in (needs --sip)
  --sip URI          the user's SIP address (sip:user@domain)
  --csr FILE         relay this PKCS#10 request (PEM) instead of a throwaway one
  --device-id GUID   DeviceId to send (default: a random GUID)
  --dns HOST:PORT    resolve names through this DNS server instead of the system's
  --ca FILE          also trust the CA certificate(s) in this PEM file (TLS is always verified)
  --json             print one JSON document

Exit status: 0 certificate issued, 1 a typed failure (stage 7 or 8), 2 a usage error.
`;

interface Args {
  certprov?: string;
  phone?: string;
  account?: string;
  sip?: string;
  csr?: string;
  deviceId?: string;
  dns?: string;
  ca?: string;
  json: boolean;
}

function parseArgs(args: string[]): Args {
  const out: Args = { json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw usageError(`${a} needs a value.\n\n${USAGE}`);
      return v;
    };
    if (a === '--json') out.json = true;
    else if (a === '--certprov') out.certprov = value();
    else if (a === '--phone') out.phone = value();
    else if (a === '--ntlm') out.account = value();
    else if (a === '--sip') out.sip = value();
    else if (a === '--csr') out.csr = value();
    else if (a === '--device-id') out.deviceId = value();
    else if (a === '--dns') out.dns = value();
    else if (a === '--ca') out.ca = value();
    else if (/^--(pin|password)(=|$)/.test(a)) {
      throw usageError('PINs and passwords are never taken from the command line; set TETHER_PIN / TETHER_PASSWORD or answer the prompt.');
    } else throw usageError(`Unknown option '${a}'.\n\n${USAGE}`);
  }
  if (out.certprov === undefined) throw usageError(`--certprov is required.\n\n${USAGE}`);
  if ((out.phone === undefined) === (out.account === undefined)) throw usageError(`Give either --phone (PIN) or --ntlm (Windows).\n\n${USAGE}`);
  if (out.account !== undefined && out.sip === undefined) throw usageError(`--ntlm needs --sip.\n\n${USAGE}`);
  return out;
}

async function secret(io: CliIO, envName: string, question: string): Promise<string> {
  const fromEnv = io.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!io.promptSecret) throw usageError(`Set ${envName}, or run in a terminal to be asked.`);
  const answer = await io.promptSecret(question).catch((cause: unknown) => {
    throw new TetherError('BAD_INPUT', `Set ${envName}, or run in a terminal to be asked.`, { cause });
  });
  if (answer === '') throw usageError('The answer is empty.');
  return answer;
}

async function readText(file: string, what: string, marker: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new TetherError('BAD_INPUT', `Cannot read the ${what} file '${file}'.`, { cause });
  }
  if (!text.includes(marker)) throw usageError(`'${file}' holds no ${what}.`);
  return text;
}

/** A throwaway phone-like CSR (subject CN=<SIP URI> as SIPE makes it [S29]); the key is dropped. */
function throwawayCsr(subject: string): string {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  csr.setSubject([{ name: 'commonName', value: subject }]);
  csr.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

export const testBootstrapCommand: Command = {
  name: 'test-bootstrap',
  summary: 'Get a web ticket (PIN or NTLM) and a certificate from CertProv, like Test-CsPhoneBootstrap',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parseArgs(args);
    let resolver;
    try {
      resolver = createPoolResolver(a.dns === undefined ? {} : { server: a.dns });
    } catch (cause) {
      throw new TetherError('BAD_INPUT', cause instanceof Error ? cause.message : String(cause), { cause });
    }
    const extraCaPems = a.ca === undefined ? [] : [await readText(a.ca, 'PEM certificate', '-----BEGIN CERTIFICATE-----')];
    const givenCsr = a.csr === undefined ? undefined : await readText(a.csr, 'PKCS#10 request', '-----BEGIN CERTIFICATE REQUEST-----');
    const auth: WebTicketAuth =
      a.phone !== undefined
        ? { kind: 'pin', phoneOrExt: a.phone, pin: await secret(io, 'TETHER_PIN', `PIN for ${a.phone}: `) }
        : { kind: 'ntlm', ...splitAccount(a.account!), password: await secret(io, 'TETHER_PASSWORD', `Password for ${a.account}: `) };
    const http = new PoolHttpClient({ resolver, extraCaPems });
    try {
      const issued = await provisionCertificate({
        http,
        certProvBase: a.certprov!,
        auth,
        ...(a.sip === undefined ? {} : { sipUri: a.sip }),
        csr: givenCsr ?? throwawayCsr,
        deviceId: a.deviceId ?? randomUUID(),
      });
      const leaf = new X509Certificate(issued.certificatePem);
      const chain = issued.chainPems.map((p) => new X509Certificate(p).subject.replace(/\n/g, ', '));
      if (a.json) {
        io.stdout.write(
          JSON.stringify({
            ok: true,
            user: issued.sipUri,
            method: issued.method,
            certificate: { subject: leaf.subject, issuer: leaf.issuer, serial: leaf.serialNumber, notBefore: leaf.validFrom, notAfter: leaf.validTo, fingerprint256: leaf.fingerprint256 },
            chain,
            certificatePem: issued.certificatePem,
            chainPems: issued.chainPems,
          }) + '\n',
        );
      } else {
        io.stdout.write(
          `Stage 7 ok: web ticket for ${issued.sipUri} (${issued.method === 'pin' ? 'PIN' : 'NTLM'}).\n` +
            `Stage 8 ok: certificate issued and published.\n` +
            `  subject  ${leaf.subject}\n  issuer   ${leaf.issuer.replace(/\n/g, ', ')}\n  valid    ${leaf.validFrom} → ${leaf.validTo}\n` +
            `  sha256   ${leaf.fingerprint256}\n  chain    ${chain.join(' → ')}\n`,
        );
      }
      return EXIT.ok;
    } finally {
      http.close();
    }
  },
};

function splitAccount(account: string): { domain: string; username: string } {
  const { domain, user } = parseAccount(account);
  return { domain, username: user };
}
