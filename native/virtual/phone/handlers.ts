import { TetherError } from '../../../common/errors';
import type { DeviceHandlers } from '../../protocol/api';
import type { BulkChunk, OperationName } from '../../protocol/messages';
import type { VirtualFaults } from '../faults';
import type { VirtualPhone } from './phone';

/** What the handlers need from the phone's owner: pulling the cable and power-cycling. */
export interface PhonePower {
  /** Pulls the USB cable now (the phone keeps power). */
  unplug(): void;
  /** Reboots the phone after `delayMs`; returns the delay actually used. */
  reboot(delayMs: number, reason: string): number;
  /** Loses power at once and boots again (no reply goes out). */
  powerCut(reason: string): void;
}

/** Time a phone leaves for its reply to reach the host before it reboots. */
export const REPLY_GRACE_MS = 20;

/**
 * The phone's protocol handlers: one per operation, each calling VirtualPhone, with the fault
 * plan's refusals and "unplug after operation M" applied around it.
 */
export function phoneHandlers(phone: () => VirtualPhone, faults: VirtualFaults, power: PhonePower): { handlers: DeviceHandlers; onBulk: (chunk: BulkChunk) => Promise<void> } {
  const wrap =
    <Req, Rep>(name: OperationName, fn: (req: Req) => Promise<Rep>) =>
    async (req: Req): Promise<Rep> => {
      const refusal = faults.refusal(name);
      if (refusal) throw new TetherError(refusal.code, refusal.message);
      const reply = await fn(req);
      if (faults.unplugAfterOperation(name)) power.unplug();
      return reply;
    };
  const handlers: DeviceHandlers = {
    status: wrap('status', async () => phone().status()),
    setPoolEndpoints: wrap('setPoolEndpoints', async (req) => {
      await phone().setPoolEndpoints(req);
      return {};
    }),
    installCaChain: wrap('installCaChain', (req) => phone().installCaChain(req.certificates)),
    credentials: wrap('credentials', async (req) => {
      await phone().setCredentials(req);
      return { accepted: true as const };
    }),
    makeKeyPair: wrap('makeKeyPair', async (req) => ({ csr: await phone().makeKeyPair(req.subject, req.keyBits) })),
    installCertificate: wrap('installCertificate', (req) => phone().installCertificate(req.certificate, req.chain)),
    firmwareBegin: wrap('firmwareBegin', (req) => phone().firmwareBegin(req)),
    firmwareStatus: wrap('firmwareStatus', async () => phone().firmwareStatus()),
    firmwareVerify: wrap('firmwareVerify', (req) => phone().firmwareVerify(req.transferId)),
    firmwareActivate: wrap('firmwareActivate', async (req) => {
      const slot = await phone().firmwareActivate(req.transferId);
      return { slot, rebootInMs: power.reboot(0, `activating firmware in slot ${slot}`) };
    }),
    firmwareCommit: wrap('firmwareCommit', () => phone().firmwareCommit()),
    firmwareRollback: wrap('firmwareRollback', async () => {
      const reply = await phone().firmwareRollback();
      power.reboot(0, `rolling back to slot ${reply.slot}`);
      return reply;
    }),
    wipe: wrap('wipe', async (req) => {
      await phone().wipe(req.includeCertificate);
      return {};
    }),
    logs: wrap('logs', async (req) => phone().logs(req.maxBytes)),
    reboot: wrap('reboot', async (req) => ({ rebootInMs: power.reboot(req.delayMs, 'reboot asked by the PC') })),
  };
  const onBulk = async (chunk: BulkChunk): Promise<void> => {
    const have = await phone().firmwareData(chunk);
    if (faults.rebootAtImageByte(have)) power.powerCut(`power cut while receiving firmware (${have} bytes held)`);
  };
  return { handlers, onBulk };
}
