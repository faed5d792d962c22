import { TetherError } from '../../../common/errors';
import { ntlmHttpRequest } from '../../pool/auth/ntlm-http';
import { requireHttps } from '../../pool/auth/require-https';
import { PoolHttpClient } from '../../pool/net/http';
import { flag, parseArgs } from '../args';
import { NO_PASSWORD_ON_ARGV, readCertificatePem, readSecret, resolverFor } from '../inputs';
import { EXIT, usageError, type CliIO, type Command } from '../io';
import { LAB_FLAG, labFlagHelp, labNtlmUrl, labTrustPems, readLabEndpoints } from '../lab-endpoints';

const USAGE = `Usage: tether test-auth (--url URL [--dns HOST:PORT] [--ca FILE] | --lab [DIR]) --ntlm 'DOMAIN\\user' [--json]

Signs in to an NTLM-protected Web Services URL (a WebTicket endpoint or any page that asks for
Windows authentication) with NTLMv2 over HTTP, on one kept-alive connection, and reports whether
the server accepted the credentials (in the spirit of Test-CsClientAuth).

The password comes from the TETHER_PASSWORD environment variable, or is asked for on the terminal
without echo; it is never taken from the command line.

  --url URL          e.g. https://pool01.contoso.com/WebTicket/WebTicketService.svc
  --ntlm DOMAIN\\user the Windows account (user@domain is also accepted)
  --dns HOST:PORT    resolve names through this DNS server instead of the system's
  --ca FILE          also trust the CA certificate(s) in this PEM file (TLS is always verified)
${labFlagHelp(21)}
                     (--url defaults to the lab's NTLM WebTicket port; its root is trusted
                     only when its fingerprint is the published one)
  --insecure-plain-http-loopback
                     allow an http:// URL whose host is 127.x.x.x or [::1] (a lab on this PC).
                     Anywhere else NTLM goes only over https: over plain http anyone on the path
                     gets a response they can crack offline for the password, and can relay it
  --method GET|POST  the request to authenticate (default GET; a 405 answer to GET switches to an
                     empty POST, as .svc endpoints take only POST)
  --timeout MS       give up after this many milliseconds (default 20000)
  --json             print one JSON document

Exit status: 0 accepted, 1 a typed failure (rejected, unreachable, TLS, …), 2 a usage error.
`;

const FLAGS = {
  url: flag.string(),
  ntlm: flag.string(),
  dns: flag.string(),
  ca: flag.string(),
  method: flag.value((t): 'GET' | 'POST' => {
    const m = t.toUpperCase();
    if (m !== 'GET' && m !== 'POST') throw usageError(`--method is GET or POST.\n\n${USAGE}`);
    return m;
  }),
  timeout: flag.number({ min: 1, message: `--timeout needs a positive number of milliseconds.\n\n${USAGE}` }),
  lab: LAB_FLAG,
  'insecure-plain-http-loopback': flag.boolean(),
  json: flag.boolean(),
};

async function parseTestAuthArgs(args: string[]) {
  const { flags } = parseArgs(args, FLAGS, { usage: USAGE, refused: NO_PASSWORD_ON_ARGV });
  const { ntlm: account } = flags;
  if ((flags.url === undefined && flags.lab === undefined) || account === undefined) throw usageError(`--url (or --lab) and --ntlm are required.\n\n${USAGE}`);
  // --lab: the running lab's DNS server, NTLM URL and root (checked against its fingerprint); flags win.
  const lab = flags.lab === undefined ? null : await readLabEndpoints(flags.lab);
  const url = flags.url ?? labNtlmUrl(lab!);
  const allowPlainHttpOnLoopback = flags['insecure-plain-http-loopback'] === true;
  // Refused before the password is asked for; ntlmHttpRequest checks it again where it sends.
  requireHttps(url, 'NTLM_NOT_HTTPS', 'NTLM sign-in', { allowPlainHttpOnLoopback });
  const labCaPems = lab && flags.ca === undefined ? await labTrustPems(lab) : [];
  return { ...flags, url, allowPlainHttpOnLoopback, account, dns: flags.dns ?? lab?.dns, labCaPems, timeoutMs: flags.timeout ?? 20_000 };
}

/** `DOMAIN\user` → (DOMAIN, user); `user@domain` is passed whole with an empty domain, as Windows does. */
export function parseAccount(account: string): { domain: string; user: string } {
  const slash = account.indexOf('\\');
  if (slash > 0 && slash < account.length - 1 && !account.includes('\\', slash + 1)) {
    return { domain: account.slice(0, slash), user: account.slice(slash + 1) };
  }
  if (/^[^@\\\s]+@[^@\\\s]+$/.test(account)) return { domain: '', user: account };
  throw usageError(`'${account}' is not an account; use DOMAIN\\user or user@domain.`);
}

export const testAuthCommand: Command = {
  name: 'test-auth',
  summary: 'Check Windows (NTLM) credentials against a Web Services URL, like Test-CsClientAuth',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const a = await parseTestAuthArgs(args);
    const { domain, user } = parseAccount(a.account);
    const resolver = resolverFor(a.dns);
    const extraCaPems = a.ca === undefined ? a.labCaPems : [await readCertificatePem(a.ca, 'the CA file')];
    if (a.allowPlainHttpOnLoopback && new URL(a.url).protocol === 'http:') {
      io.stderr.write('WARNING: NTLM over plain http (--insecure-plain-http-loopback): the response to the challenge is not protected by TLS. Use it only with a lab on this PC.\n');
    }
    const password = Buffer.from(await readSecret(io, 'TETHER_PASSWORD', `Password for ${a.account}: `, 'password'), 'utf8');
    const http = new PoolHttpClient({ resolver, extraCaPems, timeouts: { connectMs: Math.min(10_000, a.timeoutMs), totalMs: a.timeoutMs } });
    try {
      const credentials = { domain, user, password };
      // Authentication is what is tested: any answer but a 401 after AUTHENTICATE is a pass.
      const attempt = (method: 'GET' | 'POST') =>
        ntlmHttpRequest(http, credentials, {
          url: a.url,
          stage: 'auth',
          method,
          allowPlainHttpOnLoopback: a.allowPlainHttpOnLoopback,
          acceptStatus: () => true,
          ...(method === 'POST' ? { body: '', headers: { 'content-type': 'text/xml; charset=utf-8' } } : {}),
        });
      const result = await attempt(a.method ?? 'GET').catch((err: unknown) => {
        if (a.method === undefined && err instanceof TetherError && err.code === 'NTLM_NOT_OFFERED' && err.detail.status === 405) return attempt('POST');
        throw err;
      });
      const report = { ok: true, url: a.url, account: a.account, scheme: result.scheme, status: result.response.status };
      if (a.json) io.stdout.write(JSON.stringify(report) + '\n');
      else io.stdout.write(`NTLM sign-in accepted: ${a.account} at ${a.url} (${result.scheme} on one connection; the authenticated request got HTTP ${result.response.status}).\n`);
      return EXIT.ok;
    } finally {
      password.fill(0);
      http.close();
    }
  },
};
