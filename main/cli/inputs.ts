import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { TetherError } from '../../common/errors';
import type { DhcpInformOptions } from '../pool/discovery/dhcp-inform';
import { createPoolResolver, type PoolResolver } from '../pool/net/resolver';
import { portNumber } from './args';
import { usageError, type CliIO } from './io';

/** What several commands read from their user besides flags: files, secrets, addresses. */

/** The resolver for `--dns HOST:PORT` (absent: the system's); a malformed address is a usage error. */
export function resolverFor(dns: string | undefined): PoolResolver {
  try {
    return createPoolResolver(dns === undefined ? {} : { server: dns });
  } catch (cause) {
    throw new TetherError('BAD_INPUT', cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** A PEM file that must hold at least one certificate; `what` names it in errors ("the CA file"). */
export async function readCertificatePem(file: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new TetherError('BAD_INPUT', `Cannot read ${what} '${file}'.`, { cause });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw usageError(`'${file}' holds no PEM certificate.`);
  return text;
}

/**
 * A secret from the environment variable `env`, else asked for on the terminal without echo;
 * never from the command line. `what` names it in errors ("password", "PIN").
 */
export async function readSecret(io: CliIO, env: string, question: string, what: string): Promise<string> {
  const fromEnv = io.env[env];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const missing = `No ${what}: set ${env}, or run in a terminal to be asked.`;
  if (!io.promptSecret) throw usageError(missing);
  let answer: string;
  try {
    answer = await io.promptSecret(question);
  } catch (cause) {
    throw new TetherError('BAD_INPUT', missing, { cause });
  }
  if (answer === '') throw usageError(`The ${what} is empty.`);
  return answer;
}

/** For the flag tables of commands that ask for secrets: they are refused on argv. */
export const NO_PASSWORD_ON_ARGV = {
  '--password': 'Passwords are never taken from the command line; set TETHER_PASSWORD or answer the prompt.',
} as const;

/** `a.b.c.d` or `a.b.c.d:PORT` (PORT 1–65535): where to send a DHCPINFORM (IPv4 only). */
export function dhcpServerAddress(text: string, flag: string): { host: string; port?: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::([^:]*))?$/.exec(text);
  if (!m || isIP(m[1]!) !== 4) throw usageError(`${flag}: '${text.slice(0, 60)}' is not an IPv4 address, optionally with :PORT.`);
  return m[2] === undefined ? { host: m[1]! } : { host: m[1]!, port: portNumber(m[2], flag) };
}

/** The --dhcp-inform, --dhcp-server and --dhcp-client-port flags as dhcpInform's options. */
export function dhcpInformTarget(
  interfaceName: string,
  server: { host: string; port?: number } | undefined,
  clientPort: number | undefined,
): Pick<DhcpInformOptions, 'interfaceName' | 'server' | 'serverPort' | 'noBroadcast' | 'clientPort'> {
  return {
    interfaceName,
    ...(server ? { server: server.host } : {}),
    // A responder on a port other than 67 (the lab's) is not a broadcast DHCP server: ask only it.
    ...(server?.port !== undefined ? { serverPort: server.port, noBroadcast: server.port !== 67 } : {}),
    ...(clientPort !== undefined ? { clientPort } : {}),
  };
}
