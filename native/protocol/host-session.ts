import { TetherError } from '../../common/errors';
import type { HostSession, HostSessionOptions } from './api';
import type { FrameLink } from './link';

/** Runs the host side of the handshake over `link`; resolves once the session is open (unpaired). */
export async function openHostSession(_link: FrameLink, _options: HostSessionOptions = {}): Promise<HostSession> {
  throw new TetherError('INTERNAL', 'tether host session: implementation lands in the next commit');
}
