import { TetherError } from '../../../common/errors';
import type { DeviceStatus } from '../../../native/protocol';
import type { AttachedPhone } from '../../device/attach';
import { openFleet, parseVirtualList } from '../../device/fleet';
import { flag, parseArgs } from '../args';
import { EXIT, usageError, type CliIO, type Command } from '../io';

const USAGE = `Usage: tether phone --virtual MODEL [--serial SERIAL] [--speed high|full] <status|display|reboot> [--json]

A small console for a virtual phone, over the real stack: the virtual USB device, the tether
protocol's handshake, then pairing (the code the phone shows is compared with the host's), then
the operation.

  status   the phone's network, DHCP options, registration and display
  display  what the phone's display shows
  reboot   restart the phone and wait until it is back on USB (found again by its serial)
  --json   print one JSON document
`;

const ACTIONS = ['status', 'display', 'reboot'] as const;
type Action = (typeof ACTIONS)[number];

const FLAGS = { virtual: flag.string(), serial: flag.string(), speed: flag.string(), json: flag.boolean() };

function parsePhoneArgs(args: string[]) {
  const { flags, positionals } = parseArgs(args, FLAGS, { usage: USAGE, positionals: true });
  const [action, extra] = positionals;
  const known = (ACTIONS as readonly string[]).includes(action ?? '');
  if ((action !== undefined && !known) || extra !== undefined) throw usageError(`Unknown argument '${known ? extra : action}'.\n\n${USAGE}`);
  if (!flags.virtual) throw usageError(`--virtual MODEL is required (only virtual phones have a console).\n\n${USAGE}`);
  if (/[:,]/.test(flags.virtual)) throw usageError(`--virtual takes one MODEL here; give the speed with --speed and the serial with --serial.\n\n${USAGE}`);
  if (!action) throw usageError(`Say what to do: ${ACTIONS.join(', ')}.\n\n${USAGE}`);
  return { ...flags, model: flags.virtual, action: action as Action };
}

const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));

function statusJson(s: DeviceStatus): unknown {
  return { ...s, dhcpOption43: hex(s.dhcpOption43), dhcpOption120: hex(s.dhcpOption120) };
}

function statusText(p: AttachedPhone, s: DeviceStatus): string {
  const r = s.registration;
  return [
    `${p.identity.modelId} ${p.identity.serial}  firmware ${p.identity.firmwareVersion}  hardware ${p.identity.hardwareRevision}  ${p.speed} speed`,
    `VLAN:          ${s.vlan ?? 'none'}${s.vlanSource ? ` (${s.vlanSource})` : ''}`,
    `IP:            ${s.ip ? `${s.ip.address}/${s.ip.prefixLength} gateway ${s.ip.gateway ?? '-'} DNS ${s.ip.dnsServers.join(', ') || '-'}` : 'no lease'}`,
    `DHCP 43/120:   ${hex(s.dhcpOption43) ?? '-'} / ${hex(s.dhcpOption120) ?? '-'}`,
    `Registration:  ${r.state}${r.sipUri ? ` ${r.sipUri}` : ''}${r.sipStatus ? ` (SIP ${r.sipStatus})` : ''}`,
    `Display:       ${s.displayText.replace(/\n/g, ' | ')}`,
  ].join('\n') + '\n';
}

export const phoneCommand: Command = {
  name: 'phone',
  summary: 'A console for a virtual phone: status, display, reboot (over the real protocol)',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parsePhoneArgs(args);
    // Model and speed through the --virtual list syntax; the serial as given (it may hold ':').
    const [spec] = parseVirtualList([`${a.model}:${a.speed ?? ''}`]);
    const fleet = await openFleet({ real: false, virtual: [{ ...spec!, ...(a.serial ? { serial: a.serial } : {}) }] });
    try {
      const device = fleet.virtualPhones[0]!;
      const phone = fleet.manager.phones()[0];
      if (!phone) {
        const failure = fleet.failures()[0];
        throw failure?.error ?? new TetherError('USB_NOT_A_PHONE');
      }
      // Pairing: the user would compare the code on the phone's display with ours; for a
      // virtual phone we read its display and compare for them.
      const sas = phone.session.pairing().sas;
      const shown = device.host?.phone.displayText.replace(/\D/g, '') ?? '';
      if (!shown.includes(sas)) throw new TetherError('PROTOCOL_HANDSHAKE_FAILED', 'The pairing code on the phone does not match this computer\'s.');
      await phone.session.confirmPairing();
      if (!a.json) io.stderr.write(`Paired with ${phone.identity.modelId} ${phone.identity.serial} (code ${sas}).\n`);

      if (a.action === 'status') {
        const s = await phone.session.call('status', {});
        io.stdout.write(a.json ? JSON.stringify({ identity: phone.identity, speed: phone.speed, status: statusJson(s) }) + '\n' : statusText(phone, s));
      } else if (a.action === 'display') {
        const s = await phone.session.call('status', {});
        io.stdout.write(a.json ? JSON.stringify({ serial: phone.identity.serial, display: s.displayText }) + '\n' : s.displayText + '\n');
      } else {
        const t0 = performance.now();
        const back = fleet.manager.waitForSerial(phone.identity.serial, { after: phone, timeoutMs: 30_000 });
        // If the reboot request itself fails, nobody awaits `back`: its later rejection is not news.
        back.catch(() => undefined);
        const { rebootInMs } = await phone.session.call('reboot', { delayMs: 0 });
        const again = await back;
        const ms = Math.round(performance.now() - t0);
        io.stdout.write(
          a.json
            ? JSON.stringify({ serial: again.identity.serial, rebootInMs, backAfterMs: ms, firmwareVersion: again.identity.firmwareVersion }) + '\n'
            : `Rebooted: back on USB after ${ms} ms, firmware ${again.identity.firmwareVersion}.\n`,
        );
      }
      return EXIT.ok;
    } finally {
      await fleet.close();
    }
  },
};
