import { readFile } from 'node:fs/promises';
import { TetherError } from '../../../common/errors';
import { ntlmHttpRequest } from '../../pool/auth/ntlm-http';
import { PoolHttpClient } from '../../pool/net/http';
import { createPoolResolver } from '../../pool/net/resolver';
import { EXIT, usageError, type CliIO, type Command } from '../io';

const USAGE = `Usage: tether test-auth --url URL --ntlm 'DOMAIN\\user' [--dns HOST:PORT] [--ca FILE] [--json]

Signs in to an NTLM-protected Web Services URL (a WebTicket endpoint or any page that asks for
Windows authentication) with NTLMv2 over HTTP, on one kept-alive connection, and reports whether
the server accepted the credentials (in the spirit of Test-CsClientAuth).

The password comes from the TETHER_PASSWORD environment variable, or is asked for on the terminal
without echo; it is never taken from the command line.

  --url URL          e.g. https://pool01.contoso.com/WebTicket/WebTicketService.svc
  --ntlm DOMAIN\\user the Windows account (user@domain is also accepted)
  --dns HOST:PORT    resolve names through this DNS server instead of the system's
  --ca FILE          also trust the CA certificate(s) in this PEM file (TLS is always verified)
  --method GET|POST  the request to authenticate (default GET; a 405 answer to GET switches to an
                     empty POST, as .svc endpoints take only POST)
  --timeout MS       give up after this many milliseconds (default 20000)
  --json             print one JSON document

Exit status: 0 accepted, 1 a typed failure (rejected, unreachable, TLS, …), 2 a usage error.
`;

interface Args {
  url?: string;
  account?: string;
  dns?: string;
  ca?: string;
  timeoutMs: number;
  method?: 'GET' | 'POST';
  json: boolean;
}

function parseArgs(args: string[]): Args {
  const out: Args = { json: false, timeoutMs: 20_000 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw usageError(`${a} needs a value.\n\n${USAGE}`);
      return v;
    };
    if (a === '--json') out.json = true;
    else if (a === '--url') out.url = value();
    else if (a === '--ntlm') out.account = value();
    else if (a === '--dns') out.dns = value();
    else if (a === '--ca') out.ca = value();
    else if (a === '--method') {
      const m = value().toUpperCase();
      if (m !== 'GET' && m !== 'POST') throw usageError(`--method is GET or POST.\n\n${USAGE}`);
      out.method = m;
    }    else if (a === '--timeout') {
      out.timeoutMs = Number(value());
      if (!Number.isInteger(out.timeoutMs) || out.timeoutMs <= 0) throw usageError(`--timeout needs a positive number of milliseconds.\n\n${USAGE}`);
    } else if (a === '--password' || a.startsWith('--password=')) {
      throw usageError('Passwords are never taken from the command line; set TETHER_PASSWORD or answer the prompt.');
    } else throw usageError(`Unknown option '${a}'.\n\n${USAGE}`);
  }
  if (out.url === undefined || out.account === undefined) throw usageError(`--url and --ntlm are required.\n\n${USAGE}`);
  return out;
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

async function readPassword(io: CliIO, account: string): Promise<Buffer> {
  const fromEnv = io.env.TETHER_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return Buffer.from(fromEnv, 'utf8');
  if (!io.promptSecret) throw usageError('No password: set TETHER_PASSWORD, or run in a terminal to be asked.');
  let answer: string;
  try {
    answer = await io.promptSecret(`Password for ${account}: `);
  } catch (cause) {
    throw new TetherError('BAD_INPUT', 'No password: set TETHER_PASSWORD, or run in a terminal to be asked.', { cause });
  }
  if (answer === '') throw usageError('The password is empty.');
  return Buffer.from(answer, 'utf8');
}

async function readCa(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new TetherError('BAD_INPUT', `Cannot read the CA file '${file}'.`, { cause });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw usageError(`'${file}' holds no PEM certificate.`);
  return text;
}

export const testAuthCommand: Command = {
  name: 'test-auth',
  summary: 'Check Windows (NTLM) credentials against a Web Services URL, like Test-CsClientAuth',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parseArgs(args);
    const { domain, user } = parseAccount(a.account!);
    let resolver;
    try {
      resolver = createPoolResolver(a.dns === undefined ? {} : { server: a.dns });
    } catch (cause) {
      throw new TetherError('BAD_INPUT', cause instanceof Error ? cause.message : String(cause), { cause });
    }
    const extraCaPems = a.ca === undefined ? [] : [await readCa(a.ca)];
    const password = await readPassword(io, a.account!);
    const http = new PoolHttpClient({ resolver, extraCaPems, timeouts: { connectMs: Math.min(10_000, a.timeoutMs), totalMs: a.timeoutMs } });
    try {
      const credentials = { domain, user, password };
      // Authentication is what is tested: any answer but a 401 after AUTHENTICATE is a pass.
      const attempt = (method: 'GET' | 'POST') =>
        ntlmHttpRequest(http, credentials, {
          url: a.url!,
          stage: 'auth',
          method,
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
