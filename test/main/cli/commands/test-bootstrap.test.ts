import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../../main/cli';
import type { CliIO } from '../../../../main/cli/io';
import { makeCsr } from '../../../common/pool/csr-fixture';
import { writeFiles } from '../../../lab/support';
import { startWebServicesLab, type WebServicesLab } from '../../../lab/webservices/fixture';

let env: WebServicesLab;
let caFile: string;
let csrFile: string;
const phone = makeCsr('sip:bob@contoso.test', 2048);

beforeAll(async () => {
  env = await startWebServicesLab({ lockoutThreshold: 5 });
  writeFiles(env.lab.context.stateDir, { 'root-ca.pem': env.lab.ca.rootCertPem, 'req.pem': phone.csrPem });
  caFile = join(env.lab.context.stateDir, 'root-ca.pem');
  csrFile = join(env.lab.context.stateDir, 'req.pem');
});

afterAll(async () => {
  await env?.stop();
});

function io(vars: Record<string, string> = {}, prompt?: string): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (c: string) => (out += c) },
    stderr: { write: (c: string) => (err += c) },
    env: vars,
    ...(prompt === undefined ? {} : { promptSecret: async () => prompt }),
    out: () => out,
    err: () => err,
  };
}

const base = () => ['test-bootstrap', '--certprov', env.certProvBase, '--dns', env.lab.dnsServer, '--ca', caFile];

describe('tether test-bootstrap', () => {
  it('PIN from TETHER_PIN → ticket → certificate for the relayed CSR, as one JSON document', async () => {
    const t = io({ TETHER_PIN: '24680' });
    const code = await main([...base(), '--phone', '102', '--csr', csrFile, '--json'], t);
    expect(t.err()).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(t.out()) as { ok: boolean; user: string; method: string; certificatePem: string; chain: string[] };
    expect(report).toMatchObject({ ok: true, user: 'sip:bob@contoso.test', method: 'pin' });
    expect(new X509Certificate(report.certificatePem).publicKey.export({ type: 'spki', format: 'pem' })).toBe(phone.publicKeyPem);
    expect(report.chain).toHaveLength(2);
    expect(t.out()).not.toContain('24680');
  });

  it('NTLM with the password asked on the terminal, and a throwaway CSR', async () => {
    const t = io({}, 'Lab-Alice-2026!');
    const code = await main([...base(), '--ntlm', 'CONTOSO\\alice', '--sip', 'sip:alice@contoso.test'], t);
    expect(code).toBe(0);
    expect(t.out()).toContain('Stage 8 ok: certificate issued and published.');
    expect(t.out()).toContain('CN=sip:alice@contoso.test');
  });

  it('exits 1 with the typed stage-7 error and its fix for a bad PIN, never printing the PIN', async () => {
    const t = io({ TETHER_PIN: '99999' });
    const code = await main([...base(), '--phone', '103', '--json'], t);
    expect(code).toBe(1);
    const report = JSON.parse(t.out()) as { ok: boolean; error: { code: string; stage: string; fix: string } };
    expect(report.error).toMatchObject({ code: 'WEBTICKET_PIN_REJECTED', stage: 'auth' });
    expect(report.error.fix).toMatch(/PIN/);
    expect(t.out() + t.err()).not.toContain('99999');
    env.lab.users.unlock(env.lab.users.bySipUri('sip:carol@contoso.test')!);
  });

  it('refuses secrets on the command line and incomplete options (exit 2)', async () => {
    expect(await main([...base(), '--phone', '101', '--pin', '13579'], io())).toBe(2);
    expect(await main([...base(), '--ntlm', 'CONTOSO\\alice'], io())).toBe(2);
    expect(await main([...base()], io())).toBe(2);
  });
});
