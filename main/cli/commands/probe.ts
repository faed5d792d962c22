import { readFile, writeFile } from 'node:fs/promises';
import { toTetherError } from '../../../common/errors';
import { chainPems, obtainPoolChain, type PoolChain } from '../../pool/chain';
import { PoolHttpClient } from '../../pool/net/http';
import { createPoolResolver } from '../../pool/net/resolver';
import { registerWithRegistrar, type RegistrationResult } from '../../pool/sip';
import { EXIT, reportError, usageError, type CliIO, type Command } from '../io';

const USAGE = `Usage: tether probe chain --pool HOST[:PORT] [--https-port N] [--no-tls-check] [--pin SHA256]... [--out FILE] [--dns HOST:PORT] [--json]
       tether probe register --registrar HOST:PORT --sip sip:user@domain --ca FILE [--cert FILE --key FILE] [--dns HOST:PORT] [--timeout MS] [--json]

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

  register  stage 9: one SIP REGISTER over TLS, in the spirit of Test-CsClientAuth.
    --registrar HOST:PORT  the Registrar (FQDN, usually port 5061)
    --sip URI              the user's SIP address
    --ca FILE              the pool's CA chain (PEM, e.g. from 'probe chain --out'); the only trust
    --cert FILE --key FILE the user's certificate and key (PEM); without them the Registrar's
                           401 tells where to get one
    --timeout MS           give up after this long (default 15000)

  --dns HOST:PORT  resolve names through this DNS server instead of the system's
  --json           print one JSON document

Exit status: 0 success, 1 a typed failure, 2 a usage error.
`;

interface Flags {
  readonly values: Map<string, string[]>;
  readonly switches: Set<string>;
}

const VALUE_FLAGS = new Set(['--pool', '--https-port', '--pin', '--out', '--dns', '--registrar', '--sip', '--ca', '--cert', '--key', '--timeout']);
const SWITCHES = new Set(['--json', '--no-tls-check']);

function parseFlags(args: string[]): Flags {
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (SWITCHES.has(a)) switches.add(a);
    else if (VALUE_FLAGS.has(a)) {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw usageError(`${a} needs a value.\n\n${USAGE}`);
      values.set(a, [...(values.get(a) ?? []), v]);
    } else throw usageError(`Unknown option '${a}'.\n\n${USAGE}`);
  }
  return { values, switches };
}

function one(flags: Flags, name: string): string | undefined {
  const v = flags.values.get(name);
  if (v && v.length > 1) throw usageError(`${name} may be given once.`);
  return v?.[0];
}

function port(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw usageError(`${name} needs a port number (1–65535), not '${value}'.`);
  return n;
}

function hostPort(value: string, name: string, defaultPort?: number): { host: string; port?: number } {
  const m = /^([^:\s]+)(?::(\d+))?$/.exec(value);
  if (!m) throw usageError(`${name} needs HOST or HOST:PORT, not '${value}'.`);
  const p = m[2] === undefined ? defaultPort : port(m[2], name);
  return p === undefined ? { host: m[1]! } : { host: m[1]!, port: p };
}

function describeChain(c: PoolChain): string {
  const lines = [`CA chain from ${c.sourceUrl}`, `  root:         ${c.root.subject}`, `  fingerprint:  ${c.rootFingerprint}`, `  trusted by:   ${c.trust === 'os-store' ? "this PC's certificate store" : 'a pinned fingerprint'}`];
  for (const i of c.intermediates) lines.push(`  intermediate: ${i.subject} (until ${i.notAfter.toISOString().slice(0, 10)})`);
  lines.push(`  pool HTTPS certificate: ${c.serverVerified ? 'chains to it' : 'not checked'}${c.inferredFromTls > 0 ? ` (${c.inferredFromTls} intermediate(s) taken from the TLS handshake)` : ''}`);
  return lines.join('\n') + '\n';
}

function describeRegistration(r: RegistrationResult): string {
  const p = r.provisioning;
  return [
    `Registered ${r.sipUri} at ${r.registrar} (${r.tlsProtocol ?? 'TLS'}, ${r.elapsedMs} ms, expires ${r.expires ?? '?'} s)`,
    `  Registrar FQDN:          ${p.registrarFqdn}`,
    `  Device Update internal:  ${p.deviceUpdateInternalUrl}`,
    `  Device Update external:  ${p.deviceUpdateExternalUrl}`,
    `  PIN lock enforced:       ${p.enforcePinLock ? 'yes' : 'no'} (minimum PIN length ${p.minPinLength})`,
    `  phone lock timeout:      ${p.phoneTimeoutSeconds} s`,
  ].join('\n') + '\n';
}

async function runChain(flags: Flags, io: CliIO, json: boolean): Promise<number> {
  const poolArg = one(flags, '--pool');
  if (!poolArg) throw usageError(`probe chain needs --pool.\n\n${USAGE}`);
  const pool = hostPort(poolArg, '--pool');
  const dns = one(flags, '--dns');
  const resolver = createPoolResolver(dns === undefined ? {} : { server: dns });
  const httpsPort = one(flags, '--https-port');
  const http = new PoolHttpClient({ resolver, retry: { attempts: 1 } });
  try {
    const chain = await obtainPoolChain({
      pool,
      http,
      lookup: resolver.lookup,
      pinnedFingerprints: flags.values.get('--pin') ?? [],
      ...(flags.switches.has('--no-tls-check') ? {} : { tlsServer: { host: pool.host, port: httpsPort === undefined ? 443 : port(httpsPort, '--https-port') } }),
    });
    const out = one(flags, '--out');
    if (out) await writeFile(out, chainPems(chain).join(''));
    if (json) {
      io.stdout.write(
        JSON.stringify({
          ok: true,
          chain: {
            source: chain.sourceUrl,
            trust: chain.trust,
            rootFingerprint: chain.rootFingerprint,
            root: chain.root.subject,
            intermediates: chain.intermediates.map((c) => ({ subject: c.subject, fingerprint: c.fingerprint256, notAfter: c.notAfter.toISOString() })),
            serverVerified: chain.serverVerified,
            inferredFromTls: chain.inferredFromTls,
            pems: chainPems(chain),
          },
        }) + '\n',
      );
    } else io.stdout.write(describeChain(chain) + (out ? `  written to ${out}\n` : ''));
    return EXIT.ok;
  } finally {
    http.close();
  }
}

async function runRegister(flags: Flags, io: CliIO): Promise<number> {
  const registrarArg = one(flags, '--registrar');
  const sip = one(flags, '--sip');
  const caFile = one(flags, '--ca');
  if (!registrarArg || !sip || !caFile) throw usageError(`probe register needs --registrar, --sip and --ca.\n\n${USAGE}`);
  const registrar = hostPort(registrarArg, '--registrar', 5061) as { host: string; port: number };
  const certFile = one(flags, '--cert');
  const keyFile = one(flags, '--key');
  if ((certFile === undefined) !== (keyFile === undefined)) throw usageError('--cert and --key go together.');
  const timeout = one(flags, '--timeout');
  const timeoutMs = timeout === undefined ? 15_000 : Number(timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw usageError('--timeout needs a positive number of milliseconds.');
  const dns = one(flags, '--dns');
  const resolver = createPoolResolver(dns === undefined ? {} : { server: dns });
  const caPems = [(await readFile(caFile, 'utf8').catch((err: unknown) => Promise.reject(usageError(`Cannot read --ca ${caFile}: ${(err as Error).message}`))))];
  let clientCertificate: { certPem: string; keyPem: string } | undefined;
  if (certFile && keyFile) {
    const read = (f: string, what: string) => readFile(f, 'utf8').catch((err: unknown) => Promise.reject(usageError(`Cannot read ${what} ${f}: ${(err as Error).message}`)));
    clientCertificate = { certPem: await read(certFile, '--cert'), keyPem: await read(keyFile, '--key') };
  }
  const result = await registerWithRegistrar({ registrar, sipUri: sip, caPems, lookup: resolver.lookup, timeoutMs, ...(clientCertificate ? { clientCertificate } : {}) });
  if (flags.switches.has('--json')) io.stdout.write(JSON.stringify({ ok: true, registration: result }) + '\n');
  else io.stdout.write(describeRegistration(result));
  return EXIT.ok;
}

export const probeCommand: Command = {
  name: 'probe',
  summary: 'Check stage 6 (download and trust the CA chain) or stage 9 (SIP REGISTER) from this PC.',
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const [sub, ...rest] = argv;
    const json = rest.includes('--json');
    try {
      const flags = parseFlags(rest);
      if (sub === 'chain') return await runChain(flags, io, json);
      if (sub === 'register') return await runRegister(flags, io);
      throw usageError(`probe needs 'chain' or 'register'.\n\n${USAGE}`);
    } catch (err) {
      const e = toTetherError(err);
      if (!json && e.code === 'CHAIN_ROOT_UNTRUSTED' && typeof e.detail.fingerprint === 'string') {
        io.stderr.write(`If your Lync admin confirms this root, run again with --pin ${e.detail.fingerprint}\n`);
      }
      return reportError(e, io, json);
    }
  },
};
