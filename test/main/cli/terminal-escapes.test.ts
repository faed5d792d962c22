import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDhcpPacket, encodeDhcpPacket, MESSAGE_TYPE, OPTION } from '../../../common/pool/dhcp-packet';
import { startLab, type LabHandle } from '../../../lab';
import { main } from '../../../main/cli';
import { tempDir } from '../../lab/support';
import { captureIO } from './capture-io';

// What a hostile DHCP server puts in option 15: set the window title (OSC … BEL), clear the screen.
const HOSTILE_15 = 'contoso.test\x1b]0;owned\x07\x1b[2J\x9b31m';
/** Any C0 control but newline and tab, DEL, or a C1 control: none may reach a terminal raw. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;
let dhcp: Socket;
let dhcpPort: number;

beforeAll(async () => {
  tmp = tempDir('tether-escapes-');
  lab = await startLab({ stateDir: tmp.dir, publishEndpoints: false });
  // A DHCP server that answers every DHCPINFORM with a hostile option 15.
  dhcp = createSocket('udp4');
  dhcp.on('message', (msg, rinfo) => {
    const req = decodeDhcpPacket(msg);
    const reply = encodeDhcpPacket({
      ...req,
      op: 2,
      yiaddr: '0.0.0.0',
      siaddr: '0.0.0.0',
      options: new Map([
        [OPTION.messageType, Uint8Array.of(MESSAGE_TYPE.DHCPACK)],
        [OPTION.serverId, Uint8Array.of(127, 0, 0, 1)],
        [OPTION.domainName, Buffer.from(HOSTILE_15, 'latin1')],
      ]),
    });
    dhcp.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => dhcp.bind(0, '127.0.0.1', resolve));
  dhcpPort = dhcp.address().port;
});
afterAll(async () => {
  dhcp?.close();
  await lab?.stop();
  tmp?.remove();
});

describe('terminal escape injection', () => {
  it('discover shows a hostile DHCP option 15 escaped, never raw ESC or BEL', async () => {
    const t = captureIO();
    await main(['discover', '--domain', 'contoso.test', '--dns', lab.dnsServer, '--dhcp-inform', 'lo', '--dhcp-server', `127.0.0.1:${dhcpPort}`, '--dhcp-client-port', '0'], t);
    expect(t.out()).toContain('option 15');
    expect(t.out()).not.toMatch(RAW_CONTROL);
    expect(t.err()).not.toMatch(RAW_CONTROL);
  });

  it('discover --json reports option 15 as unusable with its bytes, not as a domain', async () => {
    const t = captureIO();
    await main(['discover', '--domain', 'contoso.test', '--dns', lab.dnsServer, '--dhcp-inform', 'lo', '--dhcp-server', `127.0.0.1:${dhcpPort}`, '--dhcp-client-port', '0', '--json'], t);
    const doc = JSON.parse(t.out());
    expect(doc.dhcp.domainName).toBeNull();
    expect(doc.dhcp.option15).toMatchObject({ hex: Buffer.from(HOSTILE_15, 'latin1').toString('hex'), name: null, error: { code: 'DHCP_OPTION15_MALFORMED' } });
  });

  it('every command’s output goes through the same escaping, usage errors included', async () => {
    const t = captureIO();
    expect(await main(['\x1b]0;owned\x07'], t)).toBe(2);
    expect(t.err()).toContain('\\u001b]0;owned\\u0007');
    expect(t.err()).not.toMatch(RAW_CONTROL);
  });
});

describe('terminalSafe', () => {
  it('keeps lines, tabs and the CLI’s own styles; escapes every other control as a JSON-valid \\uXXXX', async () => {
    const { terminalSafe } = await import('../../../main/cli/terminal-text');
    expect(terminalSafe('a\tb\n\x1b[32;1m✓\x1b[0m')).toBe('a\tb\n\x1b[32;1m✓\x1b[0m');
    expect(terminalSafe('x\x1b[8my\ry\x9b2J\u202egnp.exe')).toBe('x\\u001b[8my\\u000dy\\u009b2J\\u202egnp.exe');
    // Names in any script, emoji (surrogate pairs) and the × ✓ – … the CLI prints pass unchanged.
    const names = 'Zoë Ångström, 張偉, Ольга, عائشة, 😀 ✓ × – …';
    expect(terminalSafe(names)).toBe(names);
    expect(JSON.parse(terminalSafe(JSON.stringify({ names, nested: [{ 'ключ': 'значение\n' }] })))).toEqual({ names, nested: [{ 'ключ': 'значение\n' }] });
    // In a JSON document the escape reads back as the same character.
    const doc = JSON.stringify({ s: 'a\u009bb\u2066c' });
    expect(JSON.parse(terminalSafe(doc))).toEqual({ s: 'a\u009bb\u2066c' });
  });
});
