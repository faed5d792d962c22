import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../../../main/cli';
import { captureIO as capture } from '../capture-io';

const busPresent = process.platform !== 'linux' || existsSync('/dev/bus/usb') || existsSync('/sys/bus/usb/devices');

describe('tether devices', () => {
  it('--json prints [] without phones (and without a USB bus), exit 0, nothing on stderr', async () => {
    const io = capture();
    expect(await main(['devices', '--json'], io)).toBe(0);
    const rows = JSON.parse(io.out()) as unknown[];
    // A machine with a bus may have a real phone on it; this one has none unless it has a bus.
    if (!busPresent) expect(rows).toEqual([]);
    expect(Array.isArray(rows)).toBe(true);
    expect(io.err()).toBe('');
  });

  it('without --json notes a missing bus on stderr only', async () => {
    const io = capture();
    expect(await main(['devices'], io)).toBe(0);
    if (!busPresent) {
      expect(io.out()).toBe('No phones attached.\n');
      expect(io.err()).toMatch(/USB_NO_BUS/);
    }
  });

  it('--virtual lists the virtual phones: model, serial, firmware, speed, source', async () => {
    const io = capture();
    expect(await main(['devices', '--json', '--virtual', 'CX600,HP4120:full,CX700:high:CX700-LAB1'], io)).toBe(0);
    const rows = (JSON.parse(io.out()) as Record<string, unknown>[]).filter((r) => r.source === 'virtual');
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => [r.model, r.speed, r.firmwareVersion])).toEqual(
      expect.arrayContaining([
        ['CX600', 'high', '4.0.7577.4455'],
        ['HP4120', 'full', '4.0.7577.4455'],
        ['CX700', 'high', '1.0.522.101'],
      ]),
    );
    expect(rows.find((r) => r.model === 'CX700')?.serial).toBe('CX700-LAB1');
    expect(rows.every((r) => typeof r.serial === 'string' && r.source === 'virtual')).toBe(true);
  });

  it('an unknown model is a usage error (exit 2)', async () => {
    const io = capture();
    expect(await main(['devices', '--virtual', 'CX9000'], io)).toBe(2);
    expect(io.err()).toMatch(/BAD_INPUT.*CX9000/);
  });
});

describe('tether phone', () => {
  it('status over the real stack (pairing first) as JSON', async () => {
    const io = capture();
    expect(await main(['phone', '--virtual', 'CX3000', '--serial', 'CX3000-0007', 'status', '--json'], io)).toBe(0);
    const doc = JSON.parse(io.out()) as { identity: { serial: string; modelId: string }; status: { displayText: string; registration: { state: string } } };
    expect(doc.identity).toMatchObject({ serial: 'CX3000-0007', modelId: 'CX3000' });
    expect(doc.status.registration.state).toBe('unregistered');
    expect(doc.status.displayText).toMatch(/CX3000/);
  });

  it('display and reboot', async () => {
    const display = capture();
    expect(await main(['phone', '--virtual', 'CX600', 'display'], display)).toBe(0);
    expect(display.out()).toMatch(/Polycom CX600/);
    expect(display.err()).toMatch(/Paired with CX600/);
    const reboot = capture();
    expect(await main(['phone', '--virtual', 'CX600', '--serial', 'CX600-R1', 'reboot', '--json'], reboot)).toBe(0);
    expect(JSON.parse(reboot.out())).toMatchObject({ serial: 'CX600-R1', firmwareVersion: '4.0.7577.4455' });
  });

  it('needs --virtual and an action', async () => {
    const io = capture();
    expect(await main(['phone', 'status'], io)).toBe(2);
    expect(await main(['phone', '--virtual', 'CX600'], io)).toBe(2);
  });

  it('takes the serial as given (a ":" in it is refused, not cut off) and one model in --virtual', async () => {
    const io = capture();
    expect(await main(['phone', '--virtual', 'CX600', '--serial', 'CX600-A:B', 'status'], io)).toBe(2);
    expect(io.err()).toContain('serial');
    expect(io.out()).toBe('');
    const list = capture();
    expect(await main(['phone', '--virtual', 'CX600:full', 'status', '--json'], list)).toBe(2);
    expect(JSON.parse(list.out())).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
  });
});
