import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { toTetherError } from '../../../common/errors';
import { obtainChainStage, withPort, type ChainFound } from '../../bootstrap/pool-stages';
import { StageRunner, type StageOutcome, type StageProgress } from '../../bootstrap/stage-events';
import { registerStage } from '../../bootstrap/stages/logon';
import { normaliseFingerprint } from '../../pool/chain';
import { CERTPROV_PATH } from '../../pool/discovery/discover';
import { PoolHttpClient } from '../../pool/net/http';
import type { RegistrationResult } from '../../pool/sip';
import { flag, parseArgs, portNumber, type ParsedFlags } from '../args';
import { readCertificatePem, resolverFor } from '../inputs';
import { EXIT, reportError, usageError, type CliIO, type Command } from '../io';
import { LAB_FLAG, labFlagHelp, labTrustPems, readLabEndpoints, type LabTarget } from '../lab-endpoints';

const USAGE = `Usage: tether probe chain (--pool HOST[:PORT] [--https-port N] [--pin SHA256]... [--dns HOST:PORT] | --lab [DIR]) [--no-tls-check] [--out FILE] [--json]
       tether probe register (--registrar HOST:PORT --ca FILE [--dns HOST:PORT] | --lab [DIR]) --sip sip:user@domain [--cert FILE --key FILE] [--timeout MS] [--json]

Helpdesk checks of two bootstrap stages, from this PC:

  chain     stage 6: downloads the pool's CA chain from the anonymous CertProv endpoint
            (http://HOST[:PORT]/CertProv/CertProvisioningService.svc), checks it (root,
            intermediates, CA flags, dates), checks that the pool's HTTPS certificate chains to it,
            and says whether the root is trusted (OS store, or a --pin). An untrusted root prints
            its fingerprint so you can compare it with your Lync admin's.
    --pool HOST[:PORT]   pool FQDN, and the HTTP port when not 80
    --https-port N       the pool's HTTPS port for the certificate check (default 443)
    --no-tls-check       skip the HTTPS certificate check
    --pin SHA256         trust a root with this SHA-256 fingerprint (repeatable)
    --out FILE           write the whole chain (intermediates, then root) as PEM

  register  stage 9: sign in with SIP REGISTER over TLS, in the spirit of Test-CsClientAuth;
            with a certificate it authenticates with TLS-DSK inside SIP (MS-SIPAE).
    --registrar HOST:PORT  the Registrar (FQDN, usually port 5061)
    --sip URI              the user's SIP address
    --ca FILE              the pool's CA chain (PEM, e.g. from 'probe chain --out'); the only trust
    --cert FILE --key FILE the user's certificate and key (PEM), presented in the TLS-DSK
                           handshake; without them the Registrar's 401 tells where to get one
    --timeout MS           give up after this long (default 15000)

  --dns HOST:PORT  resolve names through this DNS server instead of the system's
${labFlagHelp(19)}
                   (chain: --pool, --https-port and a --pin of the lab's root; register:
                   --registrar and the lab's root and intermediate as --ca, checked against
                   the published fingerprint)
  --json           print one JSON document

Exit status: 0 success, 1 a typed failure, 2 a usage error.
`;

const FLAGS = {
  pool: flag.string(),
  'https-port': flag.port(),
  'no-tls-check': flag.boolean(),
  pin: flag.repeatable(),
  out: flag.string(),
  registrar: flag.string(),
  sip: flag.string(),
  ca: flag.string(),
  cert: flag.string(),
  key: flag.string(),
  timeout: flag.number({ min: 1, message: '--timeout needs a positive number of milliseconds.' }),
  dns: flag.string(),
  lab: LAB_FLAG,
  json: flag.boolean(),
};

type Flags = ParsedFlags<typeof FLAGS>;

function hostPort(value: string, name: string, defaultPort?: number): { host: string; port?: number } {
  const m = /^([^:\s]+)(?::(\d+))?$/.exec(value);
  if (!m) throw usageError(`${name} needs HOST or HOST:PORT, not '${value}'.`);
  const p = m[2] === undefined ? defaultPort : portNumber(m[2], name);
  return p === undefined ? { host: m[1]! } : { host: m[1]!, port: p };
}

/** Stage 6's facts as probe has always shown them: each intermediate with its fingerprint and end date. */
interface ProbedChain {
  readonly found: ChainFound;
  readonly trust: 'os-store' | 'pinned';
  readonly intermediates: { subject: string; fingerprint: string; notAfter: Date }[];
  readonly serverVerified: boolean;
}

function probedChain(found: ChainFound, serverVerified: boolean): ProbedChain {
  // pems: intermediates deepest first, root last (the order --out writes).
  const intermediates = found.pems.slice(0, -1).map((pem, i) => {
    const c = new X509Certificate(pem);
    return { subject: found.intermediates[i]!, fingerprint: c.fingerprint256, notAfter: new Date(c.validTo) };
  });
  return { found, trust: found.trust === 'os-store' ? 'os-store' : 'pinned', intermediates, serverVerified };
}

function describeChain(c: ProbedChain): string {
  const lines = [`CA chain from ${c.found.sourceUrl}`, `  root:         ${c.found.rootSubject}`, `  fingerprint:  ${c.found.rootFingerprint}`, `  trusted by:   ${c.trust === 'os-store' ? "this PC's certificate store" : 'a pinned fingerprint'}`];
  for (const i of c.intermediates) lines.push(`  intermediate: ${i.subject} (until ${i.notAfter.toISOString().slice(0, 10)})`);
  lines.push(`  pool HTTPS certificate: ${c.serverVerified ? 'chains to it' : 'not checked'}${c.found.inferredFromTls > 0 ? ` (${c.found.inferredFromTls} intermediate(s) taken from the TLS handshake)` : ''}`);
  return lines.join('\n') + '\n';
}

/** One stage run the way a sign-in runs it, so a failure carries that stage; probe prints no progress. */
function runStage<T>(stage: 'ca-chain' | 'logon', work: (progress: StageProgress) => Promise<StageOutcome<T>>): Promise<T> {
  return new StageRunner(() => undefined).run(stage, work);
}

function describeRegistration(r: RegistrationResult): string {
  const p = r.provisioning;
  const sa = r.securityAssociation;
  return [
    `Registered ${r.sipUri} at ${r.registrar} (${r.tlsProtocol ?? 'TLS'}, ${r.elapsedMs} ms, expires ${r.expires ?? '?'} s)`,
    sa
      ? `  authenticated:           TLS-DSK (inner ${sa.innerTls}, ${sa.cipher}); authenticate again within ${Math.round(sa.refreshAfterMs / 60_000)} min`
      : '  authenticated:           not asked (the Registrar did not challenge)',
    `  Registrar FQDN:          ${p.registrarFqdn}`,
    `  Device Update internal:  ${p.deviceUpdateInternalUrl}`,
    `  Device Update external:  ${p.deviceUpdateExternalUrl}`,
    `  PIN lock enforced:       ${p.enforcePinLock ? 'yes' : 'no'} (minimum PIN length ${p.minPinLength})`,
    `  phone lock timeout:      ${p.phoneTimeoutSeconds} s`,
  ].join('\n') + '\n';
}

async function runChain(flags: Flags, lab: LabTarget | null, io: CliIO): Promise<number> {
  if (!flags.pool && !lab) throw usageError(`probe chain needs --pool (or --lab).\n\n${USAGE}`);
  // --lab: the lab's pool, ports, DNS server and a pin of its root; flags win (an own --pin replaces the lab's).
  const pool = flags.pool ? hostPort(flags.pool, '--pool') : { host: lab!.poolFqdn, port: lab!.httpPort };
  const resolver = resolverFor(flags.dns ?? lab?.dns);
  const pins = flags.pin.length > 0 || !lab ? flags.pin : [lab.rootFingerprint];
  const httpsPort = flags['https-port'] ?? lab?.httpsPort ?? 443;
  const http = new PoolHttpClient({ resolver, retry: { attempts: 1 } });
  const checkTls = !flags['no-tls-check'];
  try {
    // The pool half of stage 6, as test-bootstrap and a sign-in run it; the Web Services URL names the HTTPS port checked.
    const found = await runStage('ca-chain', (progress) =>
      obtainChainStage(
        {
          webServicesUrl: `${withPort(pool.host, httpsPort, 'https')}${CERTPROV_PATH}`,
          http,
          resolver,
          ...(pool.port === undefined ? {} : { httpPort: pool.port }),
          now: () => new Date(),
          connectTimeoutMs: 5000,
          pinnedFingerprints: pins.map(normaliseFingerprint),
          checkTls,
          howToTrust: 'pass --pin with its fingerprint',
        },
        progress,
      ),
    );
    const chain = probedChain(found, checkTls);
    const { out } = flags;
    if (out) await writeFile(out, found.pems.join(''));
    if (flags.json) {
      io.stdout.write(
        JSON.stringify({
          ok: true,
          chain: {
            source: found.sourceUrl,
            trust: chain.trust,
            rootFingerprint: found.rootFingerprint,
            root: found.rootSubject,
            intermediates: chain.intermediates.map((c) => ({ ...c, notAfter: c.notAfter.toISOString() })),
            serverVerified: chain.serverVerified,
            inferredFromTls: found.inferredFromTls,
            pems: found.pems,
          },
        }) + '\n',
      );
    } else io.stdout.write(describeChain(chain) + (out ? `  written to ${out}\n` : ''));
    return EXIT.ok;
  } finally {
    http.close();
  }
}

async function runRegister(flags: Flags, lab: LabTarget | null, io: CliIO): Promise<number> {
  const { registrar: registrarArg, sip, ca: caFile, cert: certFile, key: keyFile } = flags;
  const labRegistrar = lab?.registrarPort ? { host: lab.poolFqdn, port: lab.registrarPort } : undefined;
  if (!(registrarArg || labRegistrar) || !sip || !(caFile || lab)) throw usageError(`probe register needs --registrar, --sip and --ca (or --lab and --sip).\n\n${USAGE}`);
  const registrar = registrarArg ? (hostPort(registrarArg, '--registrar', 5061) as { host: string; port: number }) : labRegistrar!;
  if ((certFile === undefined) !== (keyFile === undefined)) throw usageError('--cert and --key go together.');
  const timeoutMs = flags.timeout ?? 15_000;
  const resolver = resolverFor(flags.dns ?? lab?.dns);
  const caPems = caFile ? [await readCertificatePem(caFile, 'the --ca file')] : await labTrustPems(lab!);
  let clientCertificate: { certPem: string; keyPem: string } | undefined;
  if (certFile && keyFile) {
    const read = (f: string, what: string) => readFile(f, 'utf8').catch((err: unknown) => Promise.reject(usageError(`Cannot read ${what} ${f}: ${(err as Error).message}`)));
    clientCertificate = { certPem: await read(certFile, '--cert'), keyPem: await read(keyFile, '--key') };
  }
  // The pool half of stage 9, as test-bootstrap --register runs it (there with the throw-away key and stage 8's certificate).
  const result = await runStage('logon', (progress) =>
    registerStage({ registrar, sipUri: sip, caPems, lookup: resolver.lookup, timeoutMs, ...(clientCertificate ? { clientCertificate } : {}) }, progress),
  );
  if (flags.json) io.stdout.write(JSON.stringify({ ok: true, registration: result }) + '\n');
  else io.stdout.write(describeRegistration(result));
  return EXIT.ok;
}

export const probeCommand: Command = {
  name: 'probe',
  summary: 'Check stage 6 (download and trust the CA chain) or stage 9 (SIP REGISTER) from this PC',
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const [sub, ...rest] = argv;
    // From all of argv: `probe --json` (no verb) still gets its usage error as JSON.
    const json = argv.includes('--json');
    try {
      const { flags } = parseArgs(rest, FLAGS, { usage: USAGE });
      if (sub !== 'chain' && sub !== 'register') throw usageError(`probe needs 'chain' or 'register'.\n\n${USAGE}`);
      const lab = flags.lab === undefined ? null : await readLabEndpoints(flags.lab);
      return sub === 'chain' ? await runChain(flags, lab, io) : await runRegister(flags, lab, io);
    } catch (err) {
      const e = toTetherError(err);
      if (!json && e.code === 'CHAIN_ROOT_UNTRUSTED' && typeof e.detail.fingerprint === 'string') {
        io.stderr.write(`If your Lync admin confirms this root, run again with --pin ${e.detail.fingerprint}\n`);
      }
      return reportError(e, io, json);
    }
  },
};
