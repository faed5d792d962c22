import { readFile } from 'node:fs/promises';
import { TetherError, toTetherError } from '../../../common/errors';
import { factsFromPoolBootstrap, runExternalPoolBootstrap, type PartialExternalResult } from '../../bootstrap/external-bootstrap';
import type { PoolBootstrapOptions, PoolBootstrapResult } from '../../bootstrap/pool-bootstrap';
import type { StageEvent } from '../../bootstrap/stage-events';
import type { ThrowawayKey } from '../../bootstrap/throwaway-key';
import { resolverFor } from '../inputs';
import { errorReport, type CliIO } from '../io';
import { RowPrinter, stageRows, type TestBootstrapArgs } from './test-bootstrap';

/**
 * `test-bootstrap --external`: after the internal run (or with `--facts FILE`), stages 3–9 from
 * outside the corporate network through the external DNS (docs/pool/external.md, docs/cli.md).
 */

async function readFacts(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new TetherError('BAD_INPUT', `Cannot read the internal sign-in facts '${file}'.`, { cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new TetherError('EXTERNAL_FACTS_INVALID', `'${file}' is not JSON.`, { cause });
  }
}

export interface OutsideRun {
  readonly failure: TetherError | null;
  readonly json: unknown;
}

export async function runOutside(
  a: TestBootstrapArgs & { domain: string },
  inside: PoolBootstrapOptions,
  io: CliIO,
  internal: PoolBootstrapResult | null,
  key: ThrowawayKey | undefined,
): Promise<OutsideRun> {
  const resolver = resolverFor(a.externalDns);
  const facts = a.facts !== undefined ? await readFacts(a.facts) : factsFromPoolBootstrap(internal!, new Date(), a.domain);
  const held = internal && key ? { certPem: internal.certificate.certificatePem, keyPem: key.privateKeyPem() } : null;
  const events: StageEvent[] = [];
  const partial: PartialExternalResult = {};
  let failure: TetherError | null = null;
  // Stage 4 may run after stage 8 (no certificate at hand), so rows are printed at the end.
  const printer = a.json ? null : new RowPrinter(io, `\nFrom outside the corporate network (external DNS ${a.externalDns}), TLS only`, true, partial, 'Result: every stage passed from outside.');
  try {
    await runExternalPoolBootstrap(
      {
        facts,
        resolver,
        auth: inside.auth,
        ...(inside.sipUri === undefined ? {} : { sipUri: inside.sipUri }),
        heldCertificate: held,
        ...(inside.phone ? { phone: inside.phone } : {}),
        ...(inside.deviceId === undefined ? {} : { deviceId: inside.deviceId }),
        register: true,
        partial,
      },
      (e) => events.push(e),
    );
  } catch (err) {
    failure = toTetherError(err);
    if (!events.some((e) => e.type === 'stage-failed')) throw failure;
  }
  if (printer && events.length > 0) {
    printer.onEvent(events, events[0]!);
    printer.finish(events);
  }
  const p = partial;
  return {
    failure,
    json: {
      ok: failure === null,
      dns: a.externalDns ?? null,
      stages: stageRows(events, true),
      result: {
        facts: p.facts ?? null,
        deviceUpdate: p.deviceUpdate ?? null,
        update: p.update ?? null,
        registrar: p.discovery?.registrar ?? null,
        candidates: p.discovery?.candidates ?? null,
        webServices: p.discovery?.webServices ?? null,
        chain: p.chain ?? null,
        auth: p.auth ?? null,
        certificate: p.certificate ?? null,
        logon: p.logon ?? null,
      },
      error: failure ? errorReport(failure) : null,
    },
  };
}
