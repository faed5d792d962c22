import type { BrowserWindow } from 'electron';
import type { TetherService } from '../../common/service/contract';
import { FINAL_JOB_STATES } from '../../common/service/contract';

/**
 * The taskbar (Windows), dock (macOS) or launcher (Unity) progress follows the firmware push, as
 * Etcher's does: the push of the job that reported last; cleared when that job ends.
 */
export function followPushOnTaskbar(service: TetherService, window: Pick<BrowserWindow, 'setProgressBar' | 'isDestroyed'>): () => void {
  let showing: string | null = null;
  const set = (value: number) => {
    if (!window.isDestroyed()) window.setProgressBar(value);
  };
  const offs = [
    service.on('progress', (p) => {
      if (p.stage !== 'check-update' || p.fraction === undefined) return;
      showing = p.jobId;
      set(p.fraction);
    }),
    service.on('stage', (s) => {
      if (s.jobId === showing && s.stage === 'check-update' && s.status !== 'progress' && s.status !== 'started') {
        showing = null;
        set(-1);
      }
    }),
    service.on('job', (job) => {
      if (job.jobId === showing && FINAL_JOB_STATES.includes(job.state)) {
        showing = null;
        set(-1);
      }
    }),
  ];
  return () => offs.forEach((off) => off());
}
