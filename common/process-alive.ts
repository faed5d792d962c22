/**
 * True when a process with this pid exists. Signal 0 checks without sending anything; EPERM means
 * it exists but belongs to someone else (alive). A reused pid reads as alive.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
