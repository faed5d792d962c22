import { parseXml } from '../../common/xml';
import { parseXmlHandwritten } from './xml-handwritten';

/**
 * A SOAP answer of about `bytes` bytes shaped like the pool's: a WS-Trust/CertProv envelope with
 * certificates as base64 text, namespaced elements and attributes, and escaped text.
 */
export function soapAnswer(bytes: number): string {
  const cert = Buffer.alloc(1500, 7).toString('base64');
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const item = `<a:Certificate a:Id="c${i}" Kind="x509"><a:Data>${cert}</a:Data><a:Note>issued &amp; published &lt;ok&gt;</a:Note></a:Certificate>\n`;
    parts.push(item);
    size += item.length;
  }
  return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="urn:bench"><s:Body><a:Chain>${parts.join('')}</a:Chain></s:Body></s:Envelope>`;
}

/** Many small elements: the other shape an answer can take (a directory listing, a roster). */
export function manyElements(count: number): string {
  return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>${'<x a="1">t</x>'.repeat(count)}</s:Body></s:Envelope>`;
}

export interface XmlBenchResult {
  readonly bytes: number;
  /** parseXml (saxes underneath), ms. */
  readonly saxesMs: number;
  /** The former hand-written parser on the same bytes, ms. */
  readonly handwrittenMs: number;
}

/**
 * Both parsers on the same bytes in this run (the hand-written one gets the decoded string, its
 * old path), alternating run by run so a burst of load on a shared machine hits both, best of
 * `runs` each after one warm-up.
 */
export function compareXmlParsers(doc: string, runs: number): XmlBenchResult {
  const bytes = Buffer.from(doc, 'utf8');
  const parsers = [() => parseXml(bytes), () => parseXmlHandwritten(bytes.toString('utf8'))] as const;
  const best = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  for (const p of parsers) p();
  for (let i = 0; i < runs; i++) {
    parsers.forEach((p, k) => {
      const t0 = performance.now();
      p();
      best[k] = Math.min(best[k]!, performance.now() - t0);
    });
  }
  return { bytes: bytes.byteLength, saxesMs: best[0]!, handwrittenMs: best[1]! };
}
