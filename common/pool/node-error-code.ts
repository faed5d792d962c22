/** The `code` of a Node socket/TLS/DNS error (e.g. 'ECONNREFUSED'), or '' when it has none. */
export function nodeErrorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
}
