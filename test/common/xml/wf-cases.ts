/**
 * Well-formedness cases for the parser comparison (docs/xml.md), in the categories of the W3C XML
 * conformance suite's not-wf tests that a SOAP answer can hit: tags, attributes, references,
 * characters, comments, CDATA, processing instructions, the XML declaration, namespaces and the
 * document's shape. `wf` is the verdict of XML 1.0 (5th ed.) + Namespaces in XML 1.0 (3rd ed.);
 * `policy` marks documents XML allows but a SOAP receiver refuses (a DTD, XML 1.1 rules), or tolerates by choice.
 */
export interface WfCase {
  readonly id: string;
  readonly doc: string | Uint8Array;
  /** True when the document is namespace-well-formed. */
  readonly wf: boolean;
  /** What a SOAP receiver should do when it differs from `wf` (see docs/xml.md). */
  readonly policy?: 'refuse' | 'tolerate';
  /** For well-formed cases: the root's text (direct character data) as a namespace-aware parser reports it. */
  readonly text?: string;
  /** For well-formed cases: the first attribute of the root, [ns, local, value]. */
  readonly attr?: readonly [string, string, string];
}

const U = 'urn:u';

export const WF_CASES: readonly WfCase[] = [
  // Tags
  { id: 'tag/empty-root', doc: '<a/>', wf: true, text: '' },
  { id: 'tag/end-tag-space', doc: '<a></a >', wf: true },
  { id: 'tag/unclosed', doc: '<a>', wf: false },
  { id: 'tag/mismatched', doc: '<a></b>', wf: false },
  { id: 'tag/space-after-lt', doc: '< a/>', wf: false },
  { id: 'tag/space-in-end-tag', doc: '<a></ a>', wf: false },
  { id: 'tag/end-tag-attribute', doc: '<a></a x="1">', wf: false },
  { id: 'tag/name-starts-with-digit', doc: '<1a/>', wf: false },
  { id: 'tag/name-starts-with-combining-mark', doc: '<\u0300a/>', wf: false },
  { id: 'tag/slash-space-gt', doc: '<a / >', wf: false },
  { id: 'tag/name-chars', doc: '<a.b-c_d·e/>', wf: true },
  // Attributes
  { id: 'attr/ok', doc: '<a x="1" y=\'2"\'/>', wf: true, attr: ['', 'x', '1'] },
  { id: 'attr/unquoted', doc: '<a x=1/>', wf: false },
  { id: 'attr/no-value', doc: '<a x/>', wf: false },
  { id: 'attr/duplicate', doc: '<a x="1" x="2"/>', wf: false },
  { id: 'attr/duplicate-after-ns', doc: `<a xmlns:p="${U}" xmlns:q="${U}" p:x="1" q:x="2"/>`, wf: false },
  { id: 'attr/lt-in-value', doc: '<a x="<"/>', wf: false },
  { id: 'attr/no-space-between', doc: '<a x="1"y="2"/>', wf: false },
  { id: 'attr/normalised-whitespace', doc: '<a x="p\tq\nr"/>', wf: true, attr: ['', 'x', 'p q r'] },
  { id: 'attr/char-ref-kept', doc: '<a x="p&#9;q"/>', wf: true, attr: ['', 'x', 'p\tq'] },
  { id: 'attr/gt-in-value', doc: '<a x="1>2"/>', wf: true, attr: ['', 'x', '1>2'] },
  { id: 'attr/duplicate-declaration', doc: `<a xmlns:p="${U}" xmlns:p="urn:v"/>`, wf: false },
  // References
  { id: 'ref/predefined', doc: '<a>&lt;&gt;&amp;&quot;&apos;</a>', wf: true, text: '<>&"\'' },
  { id: 'ref/char-decimal-hex', doc: '<a>&#65;&#x42;&#x10FFFF;</a>', wf: true, text: 'AB\u{10FFFF}' },
  { id: 'ref/bare-ampersand', doc: '<a>&</a>', wf: false },
  { id: 'ref/no-semicolon', doc: '<a>&amp</a>', wf: false },
  { id: 'ref/undefined-entity', doc: '<a>&foo;</a>', wf: false },
  { id: 'ref/undefined-entity-in-attribute', doc: '<a x="&foo;"/>', wf: false },
  { id: 'ref/char-ref-nul', doc: '<a>&#0;</a>', wf: false },
  { id: 'ref/char-ref-surrogate', doc: '<a>&#xD800;</a>', wf: false },
  { id: 'ref/char-ref-fffe', doc: '<a>&#xFFFE;</a>', wf: false },
  { id: 'ref/char-ref-too-big', doc: '<a>&#x110000;</a>', wf: false },
  { id: 'ref/char-ref-empty', doc: '<a>&#x;</a>', wf: false },
  { id: 'ref/char-ref-cr-kept', doc: '<a>&#xD;</a>', wf: true, text: '\r' },
  { id: 'ref/escaped-cdata-end', doc: '<a>]]&gt;</a>', wf: true, text: ']]>' },
  // Characters
  { id: 'char/control', doc: '<a>\u0001</a>', wf: false },
  { id: 'char/fffe', doc: '<a>\uFFFE</a>', wf: false },
  { id: 'char/lone-surrogate', doc: '<a>\uD800</a>', wf: false },
  { id: 'char/crlf-normalised', doc: '<a>x\r\ny\rz</a>', wf: true, text: 'x\ny\nz' },
  { id: 'char/cdata-end-in-text', doc: '<a>]]></a>', wf: false },
  { id: 'char/nel-is-a-char', doc: '<a>\u0085</a>', wf: true, text: '\u0085' },
  { id: 'char/utf8-bom', doc: Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from('<a>é</a>')]), wf: true, text: 'é' },
  { id: 'char/bad-utf8', doc: Uint8Array.from([...Buffer.from('<a>'), 0xc3, 0x28, ...Buffer.from('</a>')]), wf: false },
  // Comments, CDATA, processing instructions
  { id: 'comment/ok', doc: '<!-- c --><a><!-- in --></a><!-- after -->', wf: true },
  { id: 'comment/double-hyphen', doc: '<a><!-- x -- y --></a>', wf: false },
  { id: 'comment/ends-with-hyphen', doc: '<a><!-- x ---></a>', wf: false },
  { id: 'comment/unterminated', doc: '<a><!-- x </a>', wf: false },
  { id: 'cdata/ok', doc: '<a><![CDATA[<&>]]></a>', wf: true, text: '<&>' },
  { id: 'cdata/unterminated', doc: '<a><![CDATA[x</a>', wf: false },
  { id: 'cdata/outside-root', doc: '<![CDATA[x]]><a/>', wf: false },
  { id: 'pi/ok', doc: '<?pi data?><a><?pi?></a>', wf: true },
  { id: 'pi/xml-target-inside', doc: '<a><?xml version="1.0"?></a>', wf: false },
  { id: 'pi/no-target', doc: '<a><??></a>', wf: false },
  // XML declaration
  { id: 'decl/ok', doc: '<?xml version="1.0" encoding="utf-8" standalone="yes"?><a/>', wf: true },
  { id: 'decl/single-quotes-space', doc: "<?xml version='1.0' encoding=\"UTF-8\" ?><a/>", wf: true },
  { id: 'decl/no-version', doc: '<?xml encoding="UTF-8"?><a/>', wf: false },
  { id: 'decl/no-space-between', doc: '<?xml version="1.0"encoding="UTF-8"?><a/>', wf: false },
  { id: 'decl/wrong-order', doc: '<?xml version="1.0" standalone="yes" encoding="UTF-8"?><a/>', wf: false },
  { id: 'decl/version-twice', doc: '<?xml version="1.0" version="1.0"?><a/>', wf: false },
  { id: 'decl/version-2', doc: '<?xml version="2.0"?><a/>', wf: false },
  { id: 'decl/xml-1.1-control-char-ref', doc: '<?xml version="1.1"?><a>&#1;</a>', wf: false, policy: 'refuse' },
  { id: 'decl/bad-standalone', doc: '<?xml version="1.0" standalone="maybe"?><a/>', wf: false },
  { id: 'decl/bad-encoding-name', doc: '<?xml version="1.0" encoding="#x"?><a/>', wf: false },
  { id: 'decl/after-comment', doc: '<!-- c --><?xml version="1.0"?><a/>', wf: false },
  { id: 'decl/after-whitespace', doc: '\n<?xml version="1.0"?><a/>', wf: false, policy: 'tolerate' },
  // Document shape
  { id: 'doc/empty', doc: '', wf: false },
  { id: 'doc/two-roots', doc: '<a/><b/>', wf: false },
  { id: 'doc/text-before-root', doc: 'x<a/>', wf: false },
  { id: 'doc/text-after-root', doc: '<a/>x', wf: false },
  { id: 'doc/doctype', doc: '<!DOCTYPE a><a/>', wf: true, policy: 'refuse' },
  { id: 'doc/entity-outside-dtd', doc: '<a><!ENTITY x "y"></a>', wf: false },
  // Namespaces
  { id: 'ns/prefixed', doc: `<p:a xmlns:p="${U}" p:x="1"/>`, wf: true, attr: ['http://www.w3.org/2000/xmlns/', 'p', U] },
  { id: 'ns/default-undeclared', doc: `<a xmlns="${U}"><b xmlns=""/></a>`, wf: true },
  { id: 'ns/unbound-element-prefix', doc: '<p:a/>', wf: false },
  { id: 'ns/unbound-attribute-prefix', doc: '<a p:x="1"/>', wf: false },
  { id: 'ns/prefix-undeclared-empty', doc: '<a xmlns:p=""/>', wf: false },
  { id: 'ns/declared-after-use-in-same-tag', doc: `<a p:x="1" xmlns:p="${U}"/>`, wf: true, attr: [U, 'x', '1'] },
  { id: 'ns/xmlns-prefix-on-element', doc: '<xmlns:a/>', wf: false },
  { id: 'ns/xml-prefix-wrong-uri', doc: '<a xmlns:xml="urn:x"/>', wf: false },
  { id: 'ns/xmlns-prefix-declared', doc: '<a xmlns:xmlns="urn:x"/>', wf: false },
  { id: 'ns/two-colons', doc: `<a:b:c xmlns:a="${U}"/>`, wf: false },
  { id: 'ns/empty-local', doc: `<a: xmlns:a="${U}"/>`, wf: false },
  { id: 'ns/xml-prefix-predeclared', doc: '<a xml:lang="en"/>', wf: true, attr: ['http://www.w3.org/XML/1998/namespace', 'lang', 'en'] },
];
