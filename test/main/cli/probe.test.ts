import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../lab';
import { chainService } from '../../../lab/chain/service';
import { registrarService } from '../../../lab/registrar/service';
import { probeCommand } from '../../../main/cli/commands/probe';
import type { CliIO } from '../../../main/cli/io';
import { tempDir } from '../../lab/support';
import { makeCsr } from '../../support/csr';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;

beforeAll(async () => {
  tmp = tempDir();
  lab = await startLab({ stateDir: join(tmp.dir, 'lab'), services: [chainService, registrarService] });
});
afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {} };
  const code = await probeCommand.run(args, io);
  return { code, out, err };
}

describe('tether probe', () => {
  it('checks the chain, refuses an unpinned lab root with its fingerprint, then accepts it pinned', async () => {
    const base = ['chain', '--pool', `${lab.context.poolFqdn}:${lab.httpPort}`, '--https-port', String(lab.httpsPort), '--dns', lab.dnsServer];
    const refused = await run([...base, '--json']);
    expect(refused.code).toBe(1);
    const e = JSON.parse(refused.out) as { ok: boolean; error: { code: string; stage: string; message: string; detail: { fingerprint: string } } };
    expect(e.error.code).toBe('CHAIN_ROOT_UNTRUSTED');
    // Stage 6's own pool half ran, so the error carries its stage, and it names probe's flag.
    expect(e.error.stage).toBe('ca-chain');
    expect(e.error.message).toContain('--pin');
    expect(e.error.message).not.toContain('--root-fingerprint');
    expect(e.error.detail.fingerprint).toBe(lab.ca.rootFingerprint);
    const human = await run(base);
    expect(human.err).toContain(`--pin ${lab.ca.rootFingerprint}`);

    const out = join(tmp.dir, 'chain.pem');
    const ok = await run([...base, '--pin', lab.ca.rootFingerprint, '--out', out, '--json']);
    expect(ok.code).toBe(0);
    const doc = JSON.parse(ok.out) as { chain: { trust: string; intermediates: unknown[]; serverVerified: boolean } };
    expect(doc.chain.trust).toBe('pinned');
    expect(doc.chain.intermediates).toHaveLength(1);
    expect(readFileSync(out, 'utf8').match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(doc.chain.serverVerified).toBe(true);

    const unchecked = await run([...base, '--pin', lab.ca.rootFingerprint, '--no-tls-check']);
    expect(unchecked.code, unchecked.err).toBe(0);
    expect(unchecked.out).toContain('pool HTTPS certificate: not checked');
  });

  it('registers with a lab-issued certificate, and reports the 401 without one', async () => {
    const ca = join(tmp.dir, 'ca.pem');
    writeFileSync(ca, lab.context.ca.chainPems().join(''));
    const sipUri = lab.context.users.all()[0]!.sipUri;
    const { csrPem, keyPem } = makeCsr(sipUri);
    writeFileSync(join(tmp.dir, 'user.pem'), lab.context.ca.issueFromCsr(csrPem, sipUri, 24));
    writeFileSync(join(tmp.dir, 'user.key'), keyPem, { mode: 0o600 });
    const base = ['register', '--registrar', `${lab.context.poolFqdn}:${lab.endpoints.registrarPort}`, '--sip', sipUri, '--ca', ca, '--dns', lab.dnsServer];

    const challenged = await run([...base, '--json']);
    expect(challenged.code).toBe(1);
    const challenge = (JSON.parse(challenged.out) as { error: { code: string; stage: string } }).error;
    expect(challenge.code).toBe('REGISTRAR_CERT_REQUIRED');
    expect(challenge.stage).toBe('logon');

    const ok = await run([...base, '--cert', join(tmp.dir, 'user.pem'), '--key', join(tmp.dir, 'user.key')]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain(`Registered ${sipUri}`);
    expect(ok.out).toContain('/RequestHandler/ucdevice.upx');
  });

  it('rejects bad usage with exit 2', async () => {
    expect((await run(['nope'])).code).toBe(2);
    expect((await run(['chain'])).code).toBe(2);
    expect((await run(['register', '--sip', 'sip:a@b'])).code).toBe(2);
    expect((await run(['chain', '--pool', 'x', '--https-port', '99999'])).code).toBe(2);
  });
});
