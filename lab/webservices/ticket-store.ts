import { randomBytes, randomUUID } from 'node:crypto';
import { deriveProofKey } from '../../common/pool/wss-proof';

/**
 * The lab WebTicket service's tickets: random ids, an expiry, kept in memory only (a restart
 * signs everyone out, which is what a ticket's short life means anyway).
 */

export interface StoredTicket {
  readonly assertionId: string;
  readonly sipUri: string;
  /** The URL path the ticket applies to (AppliesTo), e.g. /CertProv/… */
  readonly appliesToPath: string;
  readonly created: string;
  readonly expires: string;
  readonly expiresAt: number;
  /** PSHA1 proof key when the request carried entropy; null = bearer ticket. */
  readonly proofKey: Buffer | null;
  readonly serverEntropy: Buffer | null;
}

export interface TicketStore {
  issue(opts: { sipUri: string; appliesToPath: string; clientEntropy: Buffer | undefined }): StoredTicket;
  /** The live ticket with this id, or undefined when unknown or expired. */
  get(assertionId: string): StoredTicket | undefined;
  readonly size: number;
  clear(): void;
}

/** xs:dateTime in UTC with whole seconds, the form Lync's Lifetime uses. */
export function xsDateTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function createTicketStore(opts: { lifetimeMs: number; now?: () => number; maxTickets?: number }): TicketStore {
  const now = opts.now ?? Date.now;
  const max = opts.maxTickets ?? 10_000;
  const tickets = new Map<string, StoredTicket>();
  const drop = (t: StoredTicket) => {
    t.proofKey?.fill(0);
    tickets.delete(t.assertionId);
  };
  const prune = () => {
    const t = now();
    for (const ticket of tickets.values()) if (ticket.expiresAt <= t) drop(ticket);
    // Bound memory: the oldest go first (Map keeps insertion order).
    while (tickets.size >= max) drop(tickets.values().next().value as StoredTicket);
  };
  return {
    issue({ sipUri, appliesToPath, clientEntropy }) {
      prune();
      const t = now();
      const serverEntropy = clientEntropy === undefined ? null : randomBytes(32);
      const ticket: StoredTicket = {
        assertionId: `_${randomUUID()}`,
        sipUri,
        appliesToPath,
        created: xsDateTime(t),
        expires: xsDateTime(t + opts.lifetimeMs),
        expiresAt: Math.floor((t + opts.lifetimeMs) / 1000) * 1000,
        proofKey: clientEntropy === undefined || serverEntropy === null ? null : deriveProofKey(clientEntropy, serverEntropy),
        serverEntropy,
      };
      tickets.set(ticket.assertionId, ticket);
      return ticket;
    },
    get(assertionId) {
      const ticket = tickets.get(assertionId);
      if (!ticket) return undefined;
      if (ticket.expiresAt <= now()) {
        drop(ticket);
        return undefined;
      }
      return ticket;
    },
    get size() {
      return tickets.size;
    },
    clear() {
      for (const t of [...tickets.values()]) drop(t);
    },
  };
}
