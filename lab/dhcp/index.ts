import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { LabService } from '../context';
import { sendJson } from '../http/routes';
import { startDhcpResponder } from './responder';

/**
 * The lab's DHCP side (docs/lab.md, "DHCP"): a Registrar-style DHCPINFORM responder [S4] on
 * 127.0.0.1, handing out ctx.dhcpOptions(). Its endpoint `dhcp: "127.0.0.1:PORT"` joins the lab's
 * first JSON line; GET /lab/dhcp (HTTP, loopback clients) shows its counters and current options.
 */

export const DHCP_ADMIN_PATH = '/lab/dhcp';

const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'));

function fromLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return (isIP(v4) === 4 && v4.startsWith('127.')) || a === '::1';
}

export const dhcpService: LabService = {
  name: 'dhcp',
  async start(ctx) {
    // DHCP is IPv4 only; a lab bound to ::1 still answers DHCP on 127.0.0.1.
    const host = isIP(ctx.host) === 4 ? ctx.host : '127.0.0.1';
    const responder = await startDhcpResponder({ host, port: ctx.dhcp.port, options: () => ctx.dhcpOptions(), log: ctx.log });
    const endpoint = `${host}:${responder.port}`;
    ctx.routes.add(
      'GET',
      DHCP_ADMIN_PATH,
      (req, res) => {
        if (!fromLoopback(req)) {
          sendJson(res, 403, { error: 'The lab admin endpoint answers loopback clients only.' });
          return;
        }
        const o = ctx.dhcpOptions();
        sendJson(res, 200, {
          endpoint,
          stats: responder.stats(),
          option43: hex(o.option43),
          option120: hex(o.option120),
          vlanOption43: hex(o.vlanOption43),
          certProvUrl: o.certProvUrl,
          sipServer: o.sipServer,
          vlanId: o.vlanId,
        });
      },
      { http: true, https: false },
    );
    ctx.log(`dhcp: DHCPINFORM responder on ${endpoint} (MS-UC-Client → 43/120${o43Note(ctx.dhcp.vlanId)})`);
    return { endpoints: { dhcp: endpoint }, stop: () => responder.close() };
  },
};

function o43Note(vlanId: number | null): string {
  return vlanId === null ? '' : `, CPE-OCPHONE → VLAN ${vlanId}`;
}

export { answerDhcp } from './answer';
export type { DhcpVerdict, IgnoredReason } from './answer';
export { labDhcpOptions, staleWebServerFqdn, DEFAULT_LAB_VLAN, LAB_CERTPROV_PATH } from './options';
export { startDhcpResponder } from './responder';
export type { DhcpResponder, DhcpResponderStats } from './responder';
