import { randomBytes } from 'node:crypto';
import { processAlive } from '../../common/process-alive';
import type { JobOwner } from './types';

let self: JobOwner | undefined;

/** This process as a job owner: its pid and a token drawn once per process start. */
export function processOwner(): JobOwner {
  self ??= { pid: process.pid, token: randomBytes(8).toString('hex') };
  return self;
}

/** Whether a pid is alive. A reused pid reads as alive: the claim then waits for that process to end rather than risk running a job twice. */
export const pidAlive = processAlive;
