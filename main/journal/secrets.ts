import { TetherError } from '../../common/errors';

/**
 * The journal's last line of defence: no record whose JSON has a field named like a secret reaches
 * the disk. A key is split into words (camelCase, snake_case, kebab-case); it names a secret when
 * its last word is a secret noun ("pin", "userPin", "web_ticket", "password") or a secret noun is
 * followed only by a word for its value ("pinCode", "passwordHash"). Keys where the secret word
 * only qualifies another noun are facts, not secrets: "webTicketUrl", "ticketExpires",
 * "pinnedFingerprints".
 */
const SECRET_NOUNS = new Set(['pin', 'pins', 'password', 'passwords', 'passwd', 'pwd', 'passphrase', 'secret', 'secrets', 'ticket', 'tickets', 'credential', 'credentials', 'token', 'tokens', 'assertion']);
const VALUE_WORDS = new Set(['code', 'value', 'text', 'number', 'digits', 'hash', 'plain', 'raw', 'bytes', 'b64', 'base64', 'hex', 'xml', 'string', 'pem', 'der']);

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

export function isSecretKey(key: string): boolean {
  const w = words(key);
  const last = w[w.length - 1];
  if (last === undefined) return false;
  if (SECRET_NOUNS.has(last)) return true;
  // "privateKey", "private_key_pem": a private key is a secret whatever surrounds it.
  if (w.some((x, i) => x === 'private' && w[i + 1] === 'key')) return true;
  const before = w[w.length - 2];
  return before !== undefined && SECRET_NOUNS.has(before) && VALUE_WORDS.has(last);
}

/** The JSON path of the first field named like a secret, or null. Walks objects and arrays. */
export function findSecretField(value: unknown, path = '$'): string | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findSecretField(value[i], `${path}[${i}]`);
      if (hit !== null) return hit;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (isSecretKey(key)) return `${path}.${key}`;
      const hit = findSecretField(v, `${path}.${key}`);
      if (hit !== null) return hit;
    }
  }
  return null;
}

/** Serialises a record for the journal, or throws JOURNAL_SECRET_REFUSED naming the field (never its value). */
export function secretFreeJson(what: string, value: unknown): string {
  const hit = findSecretField(value);
  if (hit !== null) {
    throw new TetherError('JOURNAL_SECRET_REFUSED', `Refused to write ${what}: its field ${hit} is named like a secret.`, { detail: { record: what, field: hit } });
  }
  return JSON.stringify(value);
}
