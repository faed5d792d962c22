import { describe, expect, it } from 'vitest';
import { definedOnly, flag, parseArgs, portNumber, wholeNumber } from '../../../main/cli/args';
import { dhcpServerAddress } from '../../../main/cli/inputs';

const USAGE = 'Usage: t [--x]';
const TABLE = {
  name: flag.string(),
  port: flag.port(),
  count: flag.number({ min: 1, max: 9 }),
  tag: flag.repeatable(),
  model: flag.list((m) => m.toUpperCase()),
  json: flag.boolean(),
};

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toMatchObject({ code: 'BAD_INPUT' });
    return (err as Error).message;
  }
  throw new Error('no usage error');
}

describe('parseArgs', () => {
  it('gives defaults for what is absent', () => {
    expect(parseArgs([], TABLE, { usage: USAGE })).toEqual({
      flags: { name: undefined, port: undefined, count: undefined, tag: [], model: [], json: false },
      positionals: [],
    });
  });

  it('reads --flag VALUE and --flag=VALUE, keeps repeats in order and splits lists at commas', () => {
    const { flags } = parseArgs(['--name', 'a', '--port=5061', '--tag', 'x', '--tag=y=z', '--model', 'cx600,hp4120', '--model=cx700', '--json', '--count', '3'], TABLE, { usage: USAGE });
    expect(flags).toEqual({ name: 'a', port: 5061, count: 3, tag: ['x', 'y=z'], model: ['CX600', 'HP4120', 'CX700'], json: true });
  });

  it('refuses unknown options, missing values, repeats of single flags and values on switches', () => {
    expect(usage(() => parseArgs(['--nope'], TABLE, { usage: USAGE }))).toBe(`Unknown option '--nope'.\n\n${USAGE}`);
    expect(usage(() => parseArgs(['verb'], TABLE, { usage: USAGE }))).toMatch(/^Unknown option 'verb'/);
    expect(usage(() => parseArgs(['--name'], TABLE, { usage: USAGE }))).toBe(`--name needs a value.\n\n${USAGE}`);
    expect(usage(() => parseArgs(['--name', '--json'], TABLE, { usage: USAGE }))).toMatch(/^--name needs a value/);
    expect(usage(() => parseArgs(['--name='], TABLE, { usage: USAGE }))).toMatch(/^--name needs a value/);
    expect(usage(() => parseArgs(['--name', 'a', '--name', 'b'], TABLE, { usage: USAGE }))).toBe('--name may be given once.');
    expect(usage(() => parseArgs(['--json=yes'], TABLE, { usage: USAGE }))).toMatch(/^--json takes no value/);
    expect(usage(() => parseArgs(['--toString', 'x'], TABLE, { usage: USAGE }))).toMatch(/^Unknown option/);
    expect(usage(() => parseArgs(['-name', 'x'], TABLE, { usage: USAGE }))).toMatch(/^Unknown option/);
    expect(usage(() => parseArgs(['--' + 'x'.repeat(500)], TABLE, { usage: USAGE })).length).toBeLessThan(100 + USAGE.length);
  });

  it('names an unknown --flag=VALUE without its value (it may be a PIN or password)', () => {
    const message = usage(() => parseArgs(['--pin=101:24680'], TABLE, { usage: USAGE }));
    expect(message).toMatch(/^Unknown option '--pin=…'/);
    expect(message).not.toContain('24680');
  });

  it('a value may start with a single dash, and is then checked by its parser', () => {
    expect(parseArgs(['--name', '-a'], TABLE, { usage: USAGE }).flags.name).toBe('-a');
    expect(usage(() => parseArgs(['--port', '-1'], TABLE, { usage: USAGE }))).toMatch(/^--port must be a port number 1–65535/);
  });

  it('collects positionals only when asked, and refuses listed flags with their own message', () => {
    expect(parseArgs(['status', '--json', 'x'], TABLE, { usage: USAGE, positionals: true })).toMatchObject({ positionals: ['status', 'x'], flags: { json: true } });
    const refused = { '--password': 'never on argv' };
    expect(usage(() => parseArgs(['--password', 'p'], TABLE, { usage: USAGE, refused }))).toBe('never on argv');
    expect(usage(() => parseArgs(['--password=p'], TABLE, { usage: USAGE, refused }))).toBe('never on argv');
  });
});

describe('value parsers', () => {
  it('whole numbers: decimal digits within range only', () => {
    expect(wholeNumber('0', '--n')).toBe(0);
    expect(wholeNumber('600000', '--n', { max: 600_000 })).toBe(600_000);
    for (const bad of ['', ' 1', '1e3', '0x10', '-1', '1.5', '600001']) expect(() => wholeNumber(bad, '--n', { max: 600_000 }), bad).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(usage(() => wholeNumber('0', '--n', { min: 1, message: 'custom' }))).toBe('custom');
  });

  it('ports: 1–65535, or 0–65535 when a free port may be asked for', () => {
    expect(portNumber('65535', '--p')).toBe(65535);
    expect(portNumber('0', '--p', 0)).toBe(0);
    expect(() => portNumber('0', '--p')).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => portNumber('65536', '--p', 0)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });

  it('DHCP server: IPv4 with an optional port 1–65535', () => {
    expect(dhcpServerAddress('127.0.0.1', '--s')).toEqual({ host: '127.0.0.1' });
    expect(dhcpServerAddress('10.0.0.1:6767', '--s')).toEqual({ host: '10.0.0.1', port: 6767 });
    for (const bad of ['dhcp.example', '127.0.0.1:', '127.0.0.1:0', '127.0.0.1:70000', '300.0.0.1:67', '[::1]:67', '1.2.3.4:5:6']) {
      expect(() => dhcpServerAddress(bad, '--s'), bad).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    }
  });

  it('definedOnly drops undefined values and keeps null, false and 0', () => {
    expect(definedOnly({ a: undefined, b: null, c: false, d: 0 })).toEqual({ b: null, c: false, d: 0 });
    expect(Object.keys(definedOnly({ a: undefined, b: 1 }))).toEqual(['b']);
  });
});
