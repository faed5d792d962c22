import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { buildRegister, newRegisterIds, serializeSipMessage, SipStreamDecoder, type SipMessage } from '../../../common/pool/sip';
import { startLab, type LabHandle } from '../../../lab';
import { handleRegister, type PeerIdentity } from '../../../lab/registrar/handler';
import { registrarPolicy } from '../../../lab/registrar/service';
import { tempDir } from '../support';
import { makeCsr } from '../../support/csr';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;
let peers: PeerIdentity[];
let base: Uint8Array;

beforeAll(async () => {
  tmp = tempDir();
  lab = await startLab({ stateDir: join(tmp.dir, 'lab'), services: [], publishEndpoints: false });
  const alice = lab.context.users.all()[0]!.sipUri;
  const { csrPem } = makeCsr(alice);
  const der = Buffer.from(new X509Certificate(lab.context.ca.issueFromCsr(csrPem, alice, 24)).raw);
  peers = [
    { authorized: true, certDer: der, authorizationError: null },
    { authorized: false, certDer: der, authorizationError: 'CERT_HAS_EXPIRED' },
    { authorized: false, certDer: null, authorizationError: null },
  ];
  base = serializeSipMessage(buildRegister({ sipUri: alice, local: { host: '127.0.0.1', port: 5555 }, ids: newRegisterIds() }));
});
afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

/**
 * What the registrar's socket does with bytes: decode (a TetherError drops the connection), answer,
 * serialise. handleRegister itself must never throw; the service also catches, as a last resort.
 */
function serve(bytes: Uint8Array, peer: PeerIdentity): number[] {
  let messages: SipMessage[];
  try {
    messages = new SipStreamDecoder().push(Buffer.from(bytes));
  } catch (err) {
    expect(err).toBeInstanceOf(TetherError);
    return [];
  }
  const policy = registrarPolicy(lab.context);
  const statuses: number[] = [];
  for (const msg of messages) {
    if (msg.kind !== 'request') continue;
    const res = handleRegister(msg, peer, lab.context.users, policy);
    try {
      serializeSipMessage(res);
    } catch (err) {
      // The service drops such a connection (a header it cannot echo, e.g. a NUL on a folded line).
      expect(err).toBeInstanceOf(TetherError);
      return statuses;
    }
    statuses.push(res.status);
  }
  return statuses;
}

describe('lab registrar answers hostile SIP', () => {
  it('never throws on mutated, truncated or spliced REGISTERs; only an authorized peer can get 200', () => {
    const text = new TextDecoder().decode(base);
    const tokens = ['\r\n', ':', ';', '<', '>', '"', ',', ' ', 'sip:', '@', 'tag=', 'Content-Length: 99999\r\n', '\0', 'é', 'To: x\r\n', 'From: <sip:@>\r\n'];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(text.length), fc.nat(text.length), fc.constantFrom(...tokens)), { maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(2),
        (splices, edits, which) => {
          let s = text;
          for (const [at, del, token] of splices) s = s.slice(0, at) + token + s.slice(at + Math.min(del % 8, s.length));
          const bytes = new TextEncoder().encode(s);
          for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
          const statuses = serve(bytes, peers[which]!);
          if (which !== 0) expect(statuses).not.toContain(200);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never throws on random bytes after a valid start line', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(2), (tail, which) => {
        const head = new TextEncoder().encode('REGISTER sip:contoso.test SIP/2.0\r\n');
        serve(Buffer.concat([head, tail, new TextEncoder().encode('\r\n\r\n')]), peers[which]!);
      }),
      { numRuns: 2000 },
    );
  });
});
