import type { TetherError } from '../../../common/errors';
import { openFleet, parseVirtualList, type Fleet } from '../../device/fleet';
import { flag, parseArgs } from '../args';
import { EXIT, type CliIO, type Command } from '../io';

const USAGE = `Usage: tether devices [--json] [--virtual MODEL[,MODEL…]] [--catalogue FILE]

Lists the phones attached by USB (real ones, and virtual ones when asked): model, serial, firmware
version, USB speed and source. Each phone is opened and handshaken to read its identity.

  --virtual CX600,HP4120  also plug in virtual phones of these models (MODEL or MODEL:full for a
                          full-speed link); see tether help phone
  --catalogue FILE        extend the built-in model catalogue with an admin's JSON file
  --json                  print one JSON array (empty when there is no phone or no USB bus)
`;

const FLAGS = { virtual: flag.list(), catalogue: flag.string(), json: flag.boolean() };

/** One row of the list, as printed with --json. */
export interface DeviceRow {
  readonly model: string | null;
  readonly name: string;
  readonly serial: string | null;
  readonly firmwareVersion: string | null;
  readonly hardwareRevision: string | null;
  readonly speed: string | null;
  readonly source: 'usb' | 'virtual';
  readonly vendorId: number;
  readonly productId: number;
  readonly error?: { readonly code: string; readonly message: string; readonly fix: string };
}

function errorOf(e: TetherError): DeviceRow['error'] {
  return { code: e.code, message: e.message, fix: e.fix };
}

export function rowsOf(fleet: Fleet): DeviceRow[] {
  const rows: DeviceRow[] = fleet.manager.phones().map((p) => ({
    model: p.identity.modelId,
    name: fleet.modelName(p.identity.modelId),
    serial: p.identity.serial,
    firmwareVersion: p.identity.firmwareVersion,
    hardwareRevision: p.identity.hardwareRevision,
    speed: p.speed,
    source: p.source,
    vendorId: p.device.vendorId,
    productId: p.device.productId,
  }));
  for (const f of fleet.failures()) {
    rows.push({ model: f.model, name: f.label, serial: null, firmwareVersion: null, hardwareRevision: null, speed: null, source: f.source, vendorId: f.vendorId, productId: f.productId, error: errorOf(f.error) });
  }
  return rows;
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function table(rows: DeviceRow[]): string {
  if (rows.length === 0) return 'No phones attached.\n';
  const head = ['MODEL', 'SERIAL', 'FIRMWARE', 'SPEED', 'SOURCE', 'USB ID'];
  const cells = rows.map((r) => [r.model ?? r.name, r.serial ?? '-', r.firmwareVersion ?? '-', r.speed ?? '-', r.source, `${hex(r.vendorId)}:${hex(r.productId)}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd() + '\n';
  let out = line(head) + cells.map(line).join('');
  for (const r of rows) if (r.error) out += `\n${r.name} (${hex(r.vendorId)}:${hex(r.productId)}): ${r.error.code}: ${r.error.message}\n  fix: ${r.error.fix}\n`;
  return out;
}

export const devicesCommand: Command = {
  name: 'devices',
  summary: 'List the phones attached by USB (real and virtual)',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parseArgs(args, FLAGS, { usage: USAGE }).flags;
    const virtual = parseVirtualList(a.virtual);
    const fleet = await openFleet({ virtual, catalogue: a.catalogue });
    try {
      const rows = rowsOf(fleet);
      if (a.json) {
        io.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      } else {
        if (fleet.usbProblem) io.stderr.write(`note: ${fleet.usbProblem.message} (${fleet.usbProblem.code})\n  ${fleet.usbProblem.fix}\n`);
        io.stdout.write(table(rows));
      }
      return EXIT.ok;
    } finally {
      await fleet.close();
    }
  },
};
