import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { escapeXml, parseXml, parseXmlStream, childText } from '../../../common/xml';
import { NS } from '../../../common/pool/soap-envelope';
import { SWEEP_TIMEOUT_MS } from '../../support/hang-guard';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TetherError);
    return (err as TetherError).code;
  }
  throw new Error('expected a throw');
}

const SOAP_FAULT = `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Body>
    <s:Fault>
      <faultcode xmlns:a="urn:x">a:Sender</faultcode>
      <faultstring xml:lang="en-US">No ticket &amp; no &lt;luck&gt; &#x41;&#66;</faultstring>
      <detail><![CDATA[<raw & text>]]></detail>
    </s:Fault>
  </s:Body>
</s:Envelope>`;

describe('parseXml: well-formed documents', () => {
  it('resolves namespaces, decodes references and CDATA', () => {
    const root = parseXml(SOAP_FAULT);
    expect(root.local).toBe('Envelope');
    expect(root.ns).toBe(NS.soap);
    const fault = root.path([NS.soap, 'Body'], [NS.soap, 'Fault'])!;
    expect(fault.name).toBe('s:Fault');
    expect(childText(fault, '', 'faultstring')).toBe('No ticket & no <luck> AB');
    expect(fault.child('', 'faultstring')!.attr('lang', 'http://www.w3.org/XML/1998/namespace')).toBe('en-US');
    expect(fault.child('', 'detail')!.text).toBe('<raw & text>');
    expect(root.find('', 'faultcode')!.text).toBe('a:Sender');
  });

  it('matches on namespace URI, not on prefix, and handles default namespaces', () => {
    const a = parseXml('<x:r xmlns:x="urn:a"><x:c>1</x:c></x:r>');
    const b = parseXml('<r xmlns="urn:a"><c>1</c><d xmlns="">2</d></r>');
    expect(a.child('urn:a', 'c')!.text).toBe('1');
    expect(b.child('urn:a', 'c')!.text).toBe('1');
    expect(b.child('', 'd')!.text).toBe('2');
    expect(b.child('urn:a', 'd')).toBeUndefined();
  });

  it('treats unprefixed attributes as namespace-less and prefixed ones as namespaced', () => {
    const r = parseXml('<r xmlns="urn:d" xmlns:p="urn:p" a="1" p:a="2"/>');
    expect(r.attr('a')).toBe('1');
    expect(r.attr('a', 'urn:p')).toBe('2');
    expect(r.attributes.find((x) => x.name === 'xmlns')!.ns).toBe('http://www.w3.org/2000/xmlns/');
  });

  it('normalises line ends and attribute white space, keeping character references', () => {
    const r = parseXml('<r a="x\ty\nz&#10;">line1\r\nline2\rline3</r>');
    expect(r.attr('a')).toBe('x y z\n');
    expect(r.text).toBe('line1\nline2\nline3');
  });

  it('accepts UTF-8 (with or without BOM) and UTF-16 buffers', () => {
    const doc = '<r>héllo ✓ 𝄞</r>';
    expect(parseXml(Buffer.from(doc)).text).toBe('héllo ✓ 𝄞');
    expect(parseXml(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(doc)])).text).toBe('héllo ✓ 𝄞');
    expect(parseXml(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(doc, 'utf16le')])).text).toBe('héllo ✓ 𝄞');
  });

  it('tolerates white space before the XML declaration', () => {
    expect(parseXml('\r\n  <?xml version="1.0" encoding="utf-8"?><r>x</r>').text).toBe('x');
  });

  it('skips comments and processing instructions', () => {
    const r = parseXml('<?xml version="1.0"?><!-- c --><?pi x?><r><!-- in --><?p?>t</r><!-- after -->\n');
    expect(r.text).toBe('t');
  });

  it('offers requireChild with a typed error, descendants and path', () => {
    const r = parseXml('<a><b><c>1</c></b><b><c>2</c></b></a>');
    expect(r.descendants('', 'c').map((c) => c.text)).toEqual(['1', '2']);
    expect(r.childrenNamed('', 'b')).toHaveLength(2);
    expect(r.path(['', 'b'], ['', 'c'])!.text).toBe('1');
    expect(r.path(['', 'x'], ['', 'c'])).toBeUndefined();
    expect(r.textContent()).toBe('12');
    const err = (() => {
      try {
        r.requireChild('urn:q', 'Missing', 'auth');
      } catch (e) {
        return e as TetherError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('XML_UNEXPECTED');
    expect(err?.stage).toBe('auth');
  });

  it('parses a deep but allowed document without recursion limits', () => {
    const depth = 100;
    const doc = '<a>'.repeat(depth) + 'x' + '</a>'.repeat(depth);
    expect(parseXml(doc).find('', 'a')).toBeDefined();
    expect(codeOf(() => parseXml('<a>'.repeat(10_000) + '</a>'.repeat(10_000)))).toBe('XML_MALFORMED');
  });
});

describe('parseXml: hostile input', () => {
  it('rejects an XXE payload before parsing, with the caller\'s stage', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>';
    try {
      parseXml(xxe, { stage: 'auth' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TetherError);
      expect((e as TetherError).code).toBe('XML_DTD_FORBIDDEN');
      expect((e as TetherError).stage).toBe('auth');
    }
    expect(codeOf(() => parseXml('<!doctype r SYSTEM "http://evil/x.dtd"><r/>'))).toBe('XML_DTD_FORBIDDEN');
    expect(codeOf(() => parseXml('<!DOCTYPE r PUBLIC "-//x" "http://evil/"><r/>'))).toBe('XML_DTD_FORBIDDEN');
  });

  it('rejects billion laughs without expanding anything, with or without the DTD', () => {
    let dtd = '<!ENTITY lol "lol">';
    for (let n = 1; n <= 9; n++) dtd += `<!ENTITY lol${n} "${`&lol${n === 1 ? '' : n - 1};`.repeat(10)}">`;
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [${dtd}]><lolz>&lol9;</lolz>`;
    expect(codeOf(() => parseXml(laughs))).toBe('XML_DTD_FORBIDDEN');
    // Without a DTD the reference is simply undefined: no expansion ever happens.
    expect(codeOf(() => parseXml('<lolz>&lol9;&lol9;</lolz>'))).toBe('XML_ENTITY_UNDEFINED');
    expect(codeOf(() => parseXml('<lolz a="&lol9;"/>'))).toBe('XML_ENTITY_UNDEFINED');
  });

  it('rejects a 50 MB document (string, buffer and stream) quickly and without reading it all', async () => {
    const big = Buffer.alloc(50 * 1024 * 1024, 0x61);
    big.write('<r>', 0);
    const bigString = big.toString('latin1');
    const heapBefore = process.memoryUsage().heapUsed;
    expect(codeOf(() => parseXml(big))).toBe('XML_TOO_LARGE');
    expect(codeOf(() => parseXml(bigString))).toBe('XML_TOO_LARGE');
    // Multi-byte text whose character count fits but whose UTF-8 size does not.
    expect(codeOf(() => parseXml('<r>' + 'é'.repeat(600) + '</r>', { maxBytes: 1000 }))).toBe('XML_TOO_LARGE');

    let pulled = 0;
    async function* stream(): AsyncGenerator<Uint8Array> {
      const chunk = new Uint8Array(64 * 1024).fill(0x61);
      for (let sent = 0; sent < 50 * 1024 * 1024; sent += chunk.byteLength) {
        pulled += chunk.byteLength;
        yield chunk;
      }
    }
    await expect(parseXmlStream(stream(), { maxBytes: 1024 * 1024 })).rejects.toMatchObject({ code: 'XML_TOO_LARGE' });
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(pulled).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
    expect(heapGrowth).toBeLessThan(16 * 1024 * 1024);
  });

  it('parses a streamed body under the limit', async () => {
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('<r><a>h');
      yield Buffer.from([0xc3]); // 'é' split across chunks
      yield Buffer.from([0xa9]);
      yield Buffer.from('</a></r>');
    }
    const r = await parseXmlStream(chunks());
    expect(childText(r, '', 'a')).toBe('hé');
  });

  it.each([
    ['empty', ''],
    ['only space', '   '],
    ['text only', 'hello'],
    ['unclosed', '<a><b></b>'],
    ['mismatched', '<a></b>'],
    ['two roots', '<a/><b/>'],
    ['text after root', '<a/>x'],
    ['bare ampersand', '<a>fish & chips</a>'],
    ['lt in attribute', '<a x="<"/>'],
    ['unquoted attribute', '<a x=1/>'],
    ['duplicate attribute', '<a x="1" x="2"/>'],
    ['duplicate expanded attribute', '<a xmlns:p="urn:1" xmlns:q="urn:1" p:x="1" q:x="2"/>'],
    ['unbound element prefix', '<p:a/>'],
    ['unbound attribute prefix', '<a p:x="1"/>'],
    ['empty prefix binding', '<a xmlns:p=""/>'],
    ['rebinding xmlns', '<a xmlns:xmlns="urn:x"/>'],
    ['bad char ref', '<a>&#0;</a>'],
    ['surrogate char ref', '<a>&#xD800;</a>'],
    ['huge char ref', '<a>&#99999999999;</a>'],
    ['control character', '<a>\u0001</a>'],
    ['cdata end in text', '<a>]]></a>'],
    ['double dash comment', '<a><!-- a -- b --></a>'],
    ['late xml declaration', '<a><?xml version="1.0"?></a>'],
    ['unterminated comment', '<a><!-- x'],
    ['unterminated cdata', '<a><![CDATA[x'],
    ['unterminated tag', '<a x="1"'],
    ['missing space between attributes', '<a x="1"y="2"/>'],
    ['bad qname', '<a:b:c xmlns:a="urn:a"/>'],
    ['unsupported encoding', '<?xml version="1.0" encoding="EBCDIC"?><a/>'],
    ['no version', '<?xml encoding="utf-8"?><a/>'],
  ])('rejects %s as XML_MALFORMED', (_label, doc) => {
    expect(codeOf(() => parseXml(doc))).toBe('XML_MALFORMED');
  });

  it('reads a start tag with hundreds of thousands of attributes in linear time (the duplicate check was quadratic)', () => {
    // ~3.7 MB, under the 4 MiB default: quadratic duplicate checking took minutes here.
    const names = Array.from({ length: 350_000 }, (_, i) => `a${i}=""`);
    expect(parseXml(`<r ${names.join(' ')}/>`).attributes).toHaveLength(350_000);
    const e = (() => {
      try {
        parseXml(`<r ${names.join(' ')} a7=""/>`);
      } catch (err) {
        return err as TetherError;
      }
      throw new Error('expected a throw');
    })();
    expect(e.code).toBe('XML_MALFORMED');
    expect(e.detail.reason).toBe('duplicate-attribute');
    // Quadratic work here takes minutes; ~2 s alone, 10 s on a loaded 2-core machine.
  }, SWEEP_TIMEOUT_MS);

  it('stays linear with thousands of namespace declarations in scope and thousands of declaring children', () => {
    // ~4 MB under the limit: copying every binding into each declaring child took minutes here.
    const n = 80_000;
    const decls = Array.from({ length: n }, (_, i) => `xmlns:p${i}="u${i}"`).join(' ');
    const root = parseXml(`<r ${decls}>${'<p7:a xmlns:z="urn:z" z:b=""/>'.repeat(n)}</r>`);
    expect(root.children).toHaveLength(n);
    expect(root.children[n - 1]!.ns).toBe('u7');
    expect(root.children[n - 1]!.attributes.find((a) => a.local === 'b')?.ns).toBe('urn:z');
    expect(codeOf(() => parseXml(`<r ${decls}><a xmlns:z="urn:z"/><z:b/></r>`))).toBe('XML_MALFORMED');
  }, SWEEP_TIMEOUT_MS);

  it('rejects invalid UTF-8 bytes', () => {
    expect(codeOf(() => parseXml(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e])))).toBe('XML_MALFORMED');
  });

  it('reports a line and column', () => {
    try {
      parseXml('<a>\n  <b>\n</a>');
    } catch (e) {
      expect((e as TetherError).detail).toMatchObject({ reason: 'mismatched-tag', line: 3 });
      return;
    }
    expect.unreachable();
  });

  it('never throws anything but a TetherError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        try {
          parseXml(s);
        } catch (e) {
          return e instanceof TetherError && e.code.startsWith('XML_');
        }
        return true;
      }),
      { numRuns: 2000 },
    );
    const pieces = fc.constantFrom('<a>', '</a>', '<b x="1">', '</b>', '<c/>', '&amp;', '&x;', '<![CDATA[', ']]>', '<!--', '-->', 'txt', ' ', '"', '<?p?>', '<p:q xmlns:p="u">', '</p:q>');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 30 }), (parts) => {
        try {
          parseXml(parts.join(''));
        } catch (e) {
          return e instanceof TetherError && e.code.startsWith('XML_');
        }
        return true;
      }),
      { numRuns: 3000 },
    );
  });
});

describe('escapeXml', () => {
  it('round-trips any legal string through text and attribute values', () => {
    const legal = fc.string({ unit: 'binary', maxLength: 100 }).filter((s) => !/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(s));
    fc.assert(
      fc.property(legal, (s) => {
        const r = parseXml(`<r a="${escapeXml(s)}" b='${escapeXml(s)}'>${escapeXml(s)}</r>`);
        return r.text === s && r.attr('a') === s && r.attr('b') === s;
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses characters XML cannot carry', () => {
    expect(codeOf(() => escapeXml('a\u0000b'))).toBe('BAD_INPUT');
    expect(codeOf(() => escapeXml('\uD800'))).toBe('BAD_INPUT');
  });
});
