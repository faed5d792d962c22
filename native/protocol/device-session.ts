import { TetherError } from '../../common/errors';
import type { DeviceSession, DeviceSessionOptions } from './api';
import type { FrameLink } from './link';

/** Answers a host's handshake on `link`; resolves once the session is open (unpaired). */
export async function openDeviceSession(_link: FrameLink, _options: DeviceSessionOptions): Promise<DeviceSession> {
  throw new TetherError('INTERNAL', 'tether device session: implementation lands in the next commit');
}
