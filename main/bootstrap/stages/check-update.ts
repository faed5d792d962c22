import { TetherError } from '../../../common/errors';
import { findModel } from '../../../native/usb/catalogue';
import { fileImage } from '../../device/firmware-image';
import { pushFirmware, type FirmwareProgress } from '../../device/firmware-push';
import { LPE_IMAGE_FILE } from '../../pool/update';
import { askDeviceUpdate, offeredBaseUrl, plural } from '../pool-stages';
import { progressOf } from './common';
import { checkUpdateOutside } from './external';
import type { StageContext, StageDefinition, StageResult, UpdateFacts } from './types';
import type { PoolHttpClient } from '../../pool/net/http';
import { rm } from 'node:fs/promises';
import { offerBytes } from '../../../common/pool/device-update-wire';
import { ensureFreeSpace } from '../../pool/update/download';
import { makeTempFolder, sweepStaleTempFolders } from '../../temp-folders';
import { ImageCache } from '../../pool/update';
import type { DownloadedImage, UpdateCheck } from '../pool-stages';
import { STAND_IN_MAC, STAND_IN_SERIAL, type PoolStageDefinition } from './pool-types';

function describe(p: FirmwareProgress): { message: string; fraction?: number; bytes?: number; totalBytes?: number } {
  switch (p.phase) {
    case 'waiting-for-phone':
      return { message: p.reason === 'reboot' ? 'phone restarting into the new firmware' : p.reason === 'link-lost' ? 'phone lost; waiting for it to come back' : 'waiting for the phone' };
    case 'sending':
      return {
        message: `pushing over USB ${p.sent}/${p.total} bytes${p.resumedFrom > 0 ? ` (resumed at ${p.resumedFrom})` : ''}`,
        fraction: p.total === 0 ? 1 : p.sent / p.total,
        bytes: p.sent,
        totalBytes: p.total,
      };
    case 'verifying':
      return { message: 'phone verifying the image (SHA-256)' };
    case 'activating':
      return { message: `activating slot ${p.slot.toUpperCase()}` };
    case 'rebooting':
      return { message: `phone restarts in ${p.rebootInMs} ms` };
    case 'committing':
      return { message: 'committing the new firmware' };
    case 'done':
      return { message: `running ${p.version} from slot ${p.slot.toUpperCase()}` };
  }
}

/** Sends a firmware push's progress on, with the estimated time left from the rate so far. */
function pushProgress(ctx: StageContext): (p: FirmwareProgress) => void {
  let start: { at: number; bytes: number } | null = null;
  return (p) => {
    const d = describe(p);
    if (p.phase === 'sending') {
      const at = ctx.services.now().getTime();
      start ??= { at, bytes: p.sent };
      const rate = (p.sent - start.bytes) / Math.max(1, at - start.at);
      if (rate > 0) {
        ctx.progress({ ...d, etaMs: Math.round((p.total - p.sent) / rate) });
        return;
      }
    }
    if (p.phase === 'waiting-for-phone' && p.reason === 'reboot') ctx.phase('rebooting');
    ctx.progress(d);
  };
}

/** Stage 4: what Device Update offers this phone (asked with its identity); an offered image is downloaded once per model and pushed over USB. */
export const checkUpdateStage: StageDefinition<'check-update'> = {
  id: 'check-update',
  needs: 'paired phone',
  pool: true,
  async run(ctx) {
    if (ctx.spec.network === 'external') return checkUpdateOutside(ctx);
    const phone = await ctx.phone();
    const runningVersion = phone.identity.firmwareVersion;
    const found = ctx.facts['find-update'];
    if (!found || !found.found) {
      const facts: UpdateFacts = { runningVersion, offered: null, pushed: null, deferred: true };
      return { facts, status: 'skipped', summary: `not checked now: Device Update was not found in stage 3; the phone runs ${runningVersion}` };
    }
    return updateFrom(ctx, found.url, ctx.anonymousHttp());
  },
};

/**
 * Asks Device Update at `url` what it offers the attached phone and, when the policy allows, pushes
 * the offered image (downloaded once per model) over USB and waits for the phone to come back.
 * Stage 4, and stage 9's check with the in-band address when stage 3 found nothing.
 */
export async function updateFrom(ctx: StageContext, url: string, http: PoolHttpClient): Promise<StageResult<UpdateFacts>> {
  const phone = await ctx.phone();
  const runningVersion = phone.identity.firmwareVersion;
  const model = findModel(phone.identity.modelId, ctx.services.catalogue);
  if (!model) throw new TetherError('USB_NOT_A_PHONE', `The phone reports model '${phone.identity.modelId}', which the catalogue does not know.`);
  const { identity, answer } = await askDeviceUpdate(
    { url, model, phone: { serial: phone.identity.serial, mac: phone.identity.mac, runningVersion }, http },
    progressOf(ctx),
  );
  const module = answer.modules.find((m) => m.fileName.toLowerCase() === LPE_IMAGE_FILE.toLowerCase()) ?? null;
  if (module === null) {
    // Device Update offers nothing newer: the phone already runs what the pool approves.
    return { facts: { runningVersion, offered: null, pushed: null, deferred: false }, status: 'skipped', summary: `no update offered: ${runningVersion} is already the approved firmware` };
  }
  if (module.version === runningVersion) {
    // A run stopped between the new firmware's boot and its commit: make it permanent now.
    const status = await phone.session.call('firmwareStatus', {});
    if (status.pendingCommit) await phone.session.call('firmwareCommit', {});
    return {
      facts: { runningVersion, offered: module.version, pushed: null, deferred: false },
      status: 'skipped',
      summary: `firmware already the offered version ${runningVersion}`,
    };
  }
  if (!ctx.policy.installUpdates) {
    return { facts: { runningVersion, offered: module.version, pushed: null, deferred: false }, status: 'skipped', summary: `${module.version} offered; not installed (policy)` };
  }
  ctx.progress({ message: `downloading ${module.fileName} ${module.version} (${module.size} bytes)` });
  const cached = await ctx.services.imageCache.get(identity, module, offeredBaseUrl(answer), { http });
  const image = await fileImage(cached.path, module.version);
  const pushed = await pushFirmware({
    phones: ctx.services.phones,
    serial: phone.identity.serial,
    image,
    reattachTimeoutMs: ctx.policy.reattachTimeoutMs,
    ...(ctx.services.timers ? { timers: ctx.services.timers } : {}),
    signal: ctx.signal,
    // About twenty progress steps whatever the size (writes of 16 KiB to 1 MiB).
    writeBytes: Math.min(1 << 20, Math.max(16 * 1024, Math.ceil(image.size / 20))),
    onProgress: pushProgress(ctx),
    // An unplugged or rebooting phone holds no pool slot while Tether waits for it.
    whileAway: (wait) => ctx.withoutPoolSlot(wait),
  });
  // The phone restarted into the new firmware: a new session, paired again.
  await ctx.phone('after-reboot');
  const facts: UpdateFacts = {
    runningVersion,
    offered: module.version,
    pushed: { version: pushed.version, slot: pushed.slot, bytesSent: pushed.bytesSent, resumes: pushed.resumes, via: cached.via },
    deferred: false,
  };
  return {
    facts,
    summary:
      `${runningVersion} → ${pushed.version}: ${module.size} bytes (${cached.via === 'download' ? 'downloaded and verified' : cached.via === 'shared' ? 'shared download' : 'verified copy from the cache'}), ` +
      `pushed over USB${pushed.resumes ? ` (resumed ${plural(pushed.resumes, 'time')})` : ''}, committed in slot ${pushed.slot.toUpperCase()}`,
  };
}

/** Stage 4 without a phone: what the pool offers the stand-in's model; offered files downloaded and verified on request. */
export const checkUpdatePoolStage: PoolStageDefinition<'update'> = {
  id: 'check-update',
  needs: 'none',
  key: 'update',
  async run(r, progress) {
    const { options, model } = r;
    const runningVersion = options.phone?.runningVersion ?? model.firmwareVersion;
    const { identity, answer } = await askDeviceUpdate(
      { url: r.facts.deviceUpdate!.url, model, phone: { serial: options.phone?.serial ?? STAND_IN_SERIAL, mac: options.phone?.mac ?? STAND_IN_MAC, runningVersion }, http: r.anonymous },
      progress,
    );
    const downloaded: DownloadedImage[] = [];
    if (options.download && answer.modules.length > 0) {
      const base = offeredBaseUrl(answer);
      // Removed below whatever happens; a run killed mid-download leaves it to the next run's sweep.
      await sweepStaleTempFolders('test-bootstrap');
      const dir = await makeTempFolder('test-bootstrap');
      try {
        // The whole offer before the first byte (each download checks its own file again).
        await ensureFreeSpace(dir, offerBytes(answer.modules), {});
        const cache = new ImageCache(dir);
        for (const [i, m] of answer.modules.entries()) {
          progress(`downloading ${m.fileName} ${m.version}`, i / answer.modules.length);
          // The files live in a temporary folder removed below: report what was verified, not paths.
          const { path: _path, signature, ...image } = await cache.get(identity, m, base, { http: r.anonymous });
          const { path: _sigPath, ...signatureFacts } = signature;
          downloaded.push({ ...image, signature: signatureFacts });
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const id = { vendor: identity.vendor, model: identity.model, revision: identity.revision, locale: identity.locale, mac: identity.mac, serial: identity.serial, runningVersion };
    const value: UpdateCheck = { identity: id, offered: answer.modules, baseUrl: answer.baseUrl, downloaded };
    const what = `${model.vendor} ${model.id} ${identity.revision} ${identity.locale} running ${runningVersion}`;
    const summary =
      answer.modules.length === 0
        ? `no update offered for ${what}`
        : `offers ${answer.modules.map((m) => `${m.fileName} ${m.version} (${m.size} bytes)`).join(', ')} for ${what}` +
          (options.download ? `; downloaded and verified (SHA-256) ${plural(downloaded.length, 'file')}` : '; not downloaded (add --download)');
    return { value, summary };
  },
};
