import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { parseXml, type XmlElement } from '../../../common/xml';
import { parseXmlHandwritten } from '../../../main/bench/xml-handwritten';
import { WF_CASES, type WfCase } from './wf-cases';

/** What a SOAP receiver should do with the case: its XML verdict unless policy says otherwise. */
const wanted = (c: WfCase): boolean => (c.policy === undefined ? c.wf : c.policy === 'tolerate');

/** The cases a parser gets wrong: verdict, or (for accepted documents) text and first attribute. */
function misses(parse: (doc: string | Uint8Array) => XmlElement): string[] {
  const wrong: string[] = [];
  for (const c of WF_CASES) {
    let el: XmlElement | null = null;
    try {
      el = parse(c.doc);
    } catch (e) {
      if (!(e instanceof TetherError) || !e.code.startsWith('XML_')) throw e;
    }
    if ((el !== null) !== wanted(c)) wrong.push(c.id);
    else if (el !== null && c.text !== undefined && el.text !== c.text) wrong.push(`${c.id} (text)`);
    else if (el !== null && c.attr !== undefined) {
      const a = el.attributes[0];
      if (a?.ns !== c.attr[0] || a.local !== c.attr[1] || a.value !== c.attr[2]) wrong.push(`${c.id} (attribute)`);
    }
  }
  return wrong;
}

describe('well-formedness cases (docs/xml.md)', () => {
  it('parseXml gets every case right', () => {
    expect(WF_CASES).toHaveLength(83);
    expect(misses((d) => parseXml(d))).toEqual([]);
  });

  it('the former hand-written parser misses the XML declaration details and the xmlns element prefix (the figures in docs/xml.md)', () => {
    // Its old byte path: UTF-8, BOM dropped, invalid bytes refused.
    const handwritten = (d: string | Uint8Array): XmlElement => {
      let text: string;
      try {
        text = typeof d === 'string' ? d : new TextDecoder('utf-8', { fatal: true }).decode(d);
      } catch {
        throw new TetherError('XML_MALFORMED', 'not UTF-8');
      }
      return parseXmlHandwritten(text);
    };
    expect(misses(handwritten)).toEqual([
      'decl/no-space-between',
      'decl/wrong-order',
      'decl/version-twice',
      'decl/bad-standalone',
      'ns/xmlns-prefix-on-element',
    ]);
  });
});
