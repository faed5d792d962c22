import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { NtlmHttpAcceptor, type NtlmSecret } from '../../../../common/pool/ntlm';
import type { TestCert } from '../../../support/throwaway-pki';

/**
 * A loopback NTLM-protected HTTP(S) endpoint built on the project's own server-side verifier,
 * recording which sockets served requests and every verdict.
 */
export interface NtlmTestServer {
  readonly port: number;
  readonly sockets: Set<Socket>;
  readonly verdicts: string[];
  close(): Promise<void>;
}

export interface NtlmTestServerOptions {
  readonly cert?: TestCert;
  readonly users: Record<string, string>;
  /** Scheme(s) to offer, e.g. 'NTLM' or 'Negotiate' or 'Basic realm="x"'. */
  readonly offer?: string[];
  /** Close the connection after sending the CHALLENGE (a proxy that breaks the binding). */
  readonly dropAfterChallenge?: boolean;
  readonly diagnosticsOnReject?: string;
}

export async function startNtlmServer(options: NtlmTestServerOptions): Promise<NtlmTestServer> {
  const sockets = new Set<Socket>();
  const verdicts: string[] = [];
  const lookup = (domain: string, user: string): NtlmSecret | undefined => {
    const password = options.users[`${domain.toUpperCase()}\\${user.toLowerCase()}`];
    return password === undefined ? undefined : { password };
  };
  const acceptor = new NtlmHttpAcceptor({ nbDomainName: 'CONTOSO', nbComputerName: 'POOL01', dnsDomainName: 'contoso.test', dnsComputerName: 'pool01.contoso.test' }, lookup);
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    sockets.add(req.socket);
    req.resume();
    const offer = options.offer ?? ['NTLM', 'Negotiate'];
    if (!offer.some((o) => o === 'NTLM' || o === 'Negotiate')) {
      res.writeHead(401, { 'www-authenticate': offer });
      res.end();
      return;
    }
    const step = acceptor.step(req.socket, req.headers.authorization);
    if (step.kind === 'authenticated') {
      verdicts.push(`ok ${step.domain}\\${step.user}`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`hello ${step.user}`);
      return;
    }
    if (step.kind === 'rejected') {
      verdicts.push(`rejected ${step.reason}`);
      res.writeHead(401, { 'www-authenticate': offer, ...(options.diagnosticsOnReject ? { 'x-ms-diagnostics': options.diagnosticsOnReject } : {}) });
      res.end();
      return;
    }
    const isChallenge = step.header.includes(' ');
    res.writeHead(401, { 'www-authenticate': isChallenge ? step.header : offer });
    res.end();
    if (isChallenge && options.dropAfterChallenge) res.once('finish', () => req.socket.destroy());
  };
  const server = options.cert ? https.createServer({ cert: options.cert.certPem, key: options.cert.keyPem }, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    verdicts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
