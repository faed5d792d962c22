import { connect } from 'node:net';
import type { PoolResolver } from './resolver';

/**
 * Does HOST:PORT accept a TCP connection? Resolves through the pool resolver, like every other
 * socket, and closes at once; rejects with the socket's error, or ETIMEDOUT after `timeoutMs`.
 */
export function tcpReachable(resolver: PoolResolver, host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, lookup: resolver.lookup, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    });
    socket.once('error', (err) => reject(err));
  });
}
