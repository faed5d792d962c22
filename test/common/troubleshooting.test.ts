import { describe, expect, it } from 'vitest';
import { AREA_TABLES, CATALOGUE, TetherError, troubleshootingOf, type SerializedTetherError } from '../../common/errors';

const CODES = Object.keys(CATALOGUE);
const entries = Object.values(AREA_TABLES).flatMap((table) => Object.entries(table));

describe('every catalogue entry speaks to each audience', () => {
  it('has what the user sees, what the user can do and what to tell the admin, non-empty, as sentences', () => {
    expect(entries.length).toBe(CODES.length);
    for (const [code, e] of entries) {
      for (const [field, text] of [
        ['summary', e.summary],
        ['userAction', e.userAction],
        ['fix', e.fix],
      ] as const) {
        expect(typeof text === 'string' && text.trim().length > 0, `${code}.${field}`).toBe(true);
        expect(text, `${code}.${field} ends a sentence`).toMatch(/[.!?)]$/);
        // No stack trace or raw exception text in anything a person reads.
        expect(text, `${code}.${field}`).not.toMatch(/\n\s*at |\bError:|\bundefined\b|\bnull\b/);
      }
      // The two audiences get different words.
      expect(e.userAction, code).not.toBe(e.fix);
    }
  });

  it('words what the desk user can do plainly: no code names, commands, cmdlets, flags or file paths', () => {
    for (const [code, e] of entries) {
      const text = e.userAction;
      expect(text, `${code}: a code name`).not.toMatch(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/);
      for (const other of CODES) expect(text.includes(other), `${code} names ${other}`).toBe(false);
      expect(text, `${code}: a cmdlet`).not.toMatch(/\b[A-Z][a-z]+-Cs[A-Z]/);
      expect(text, `${code}: a command-line flag`).not.toMatch(/(^|\s)--?[a-z]/);
      expect(text, `${code}: code formatting`).not.toMatch(/[`$<>{}]/);
      expect(text, `${code}: a file path`).not.toMatch(/\b[\w-]+\/[\w-]+\.(ts|md|json|rules|sqlite)\b|\bdocs\//);
      expect(text, `${code}: a tool name`).not.toMatch(/\b(tether|npx|npm|sudo|chmod|udevadm|Zadig)\b/);
    }
  });

  it('gives the cmdlet only as a command line for the admin', () => {
    for (const [code, e] of entries) if (e.cmdlet !== undefined) expect(e.cmdlet.trim().length, code).toBeGreaterThan(0);
  });
});

describe('troubleshootingOf', () => {
  it('words a typed error for each audience, keeping the error and its own stage', () => {
    const err = new TetherError('WEBTICKET_PIN_REJECTED', 'PIN refused for 101', { detail: { user: '101' } });
    const t = troubleshootingOf(err);
    expect(t).toEqual({
      code: 'WEBTICKET_PIN_REJECTED',
      stage: 'auth',
      userSees: CATALOGUE.WEBTICKET_PIN_REJECTED.summary,
      userCan: CATALOGUE.WEBTICKET_PIN_REJECTED.userAction,
      adminFix: CATALOGUE.WEBTICKET_PIN_REJECTED.fix,
      cmdlet: CATALOGUE.WEBTICKET_PIN_REJECTED.cmdlet ?? null,
      error: err.toJSON(),
    });
    const pushed = troubleshootingOf(new TetherError('USB_DISCONNECTED').withStage('check-update'));
    expect(pushed.stage).toBe('check-update');
    expect(pushed.cmdlet).toBeNull();
  });

  it('takes a serialized error as it crossed IPC, and reads an unknown or malformed one as INTERNAL', () => {
    const wire = JSON.parse(JSON.stringify(new TetherError('CHAIN_DOWNLOAD_OFF'))) as SerializedTetherError;
    expect(troubleshootingOf(wire)).toMatchObject({ code: 'CHAIN_DOWNLOAD_OFF', stage: 'ca-chain', adminFix: CATALOGUE.CHAIN_DOWNLOAD_OFF.fix, error: wire });
    const fromNewer = { ...wire, code: 'SOME_FUTURE_CODE' } as unknown as SerializedTetherError;
    expect(troubleshootingOf(fromNewer)).toMatchObject({ code: 'INTERNAL', userCan: CATALOGUE.INTERNAL.userAction });
  });
});
