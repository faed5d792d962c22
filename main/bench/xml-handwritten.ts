import { TetherError, type ErrorCode } from '../../common/errors';
import { XML_NS, XMLNS_NS, XmlElement, type XmlAttribute } from '../../common/xml';

/**
 * The hand-written parser common/xml used before it moved onto saxes, kept here only so that
 * `npm run bench` (xml) can measure the two side by side and docs/xml.md's figures can be
 * re-measured. Not used by the product. Same rules as before: DTD refused by a pre-scan, the five
 * predefined entities, namespaces resolved, nesting limited; strings only (no size limit here —
 * the bench feeds it documents under the limit).
 */

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const NAME_START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = NAME_START + '\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040';
// Combining marks (U+0300–036F) are legal name characters after the first (XML 1.0 §2.3).
// eslint-disable-next-line no-misleading-character-class
const NAME_RE = new RegExp(`[${NAME_START}][${NAME_CHAR}]*`, 'uy');
// eslint-disable-next-line no-misleading-character-class
const NAME_ONLY = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*$`, 'u');
// Anything outside XML 1.0's Char production (control characters, lone surrogates, U+FFFE/FFFF).
const ILLEGAL_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const DECLARATION = /<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

function xmlError(code: ErrorCode, message: string, detail: Record<string, string | number> = {}): TetherError {
  return new TetherError(code, message, { detail });
}


/** The former parseXml for a string already within the size limit. */
export function parseXmlHandwritten(text: string, maxDepth = 128): XmlElement {
  const declaration = DECLARATION.exec(text);
  if (declaration) throw xmlError('XML_DTD_FORBIDDEN', 'XML document has a DTD or entity declaration.', { offset: declaration.index });
  const illegal = ILLEGAL_CHAR.exec(text);
  if (illegal) throw xmlError('XML_MALFORMED', 'XML document contains a character XML does not allow.', { reason: 'illegal-character', offset: illegal.index });
  return new Parser(text.replace(/\r\n?/g, '\n'), maxDepth).document();
}

/**
 * Namespace bindings as a chain of each element's own declarations: an element that declares a
 * prefix adds one small map instead of copying all bindings in scope, so a hostile document with
 * thousands of declarations on the root and thousands of declaring children stays linear.
 * Lookups walk at most maxDepth links.
 */
interface Scope {
  readonly own: ReadonlyMap<string, string>;
  readonly parent: Scope | null;
}

interface Frame {
  readonly el: XmlElement;
  readonly scope: Scope;
}

const ROOT_SCOPE: Scope = {
  own: new Map([
    ['xml', XML_NS],
    ['xmlns', XMLNS_NS],
  ]),
  parent: null,
};

function lookupPrefix(scope: Scope, prefix: string): string | undefined {
  for (let at: Scope | null = scope; at; at = at.parent) {
    const ns = at.own.get(prefix);
    if (ns !== undefined) return ns;
  }
  return undefined;
}

class Parser {
  private i = 0;

  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
  ) {}

  document(): XmlElement {
    this.xmlDeclaration();
    this.misc();
    if (this.s[this.i] !== '<' || this.i >= this.s.length) this.fail('no-root', 'XML document has no root element.');
    const root = this.element();
    this.misc();
    if (this.i < this.s.length) this.fail('content-after-root', 'XML document has content after its root element.');
    return root;
  }

  private fail(reason: string, message: string, at = this.i, code: ErrorCode = 'XML_MALFORMED'): never {
    const before = this.s.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    throw xmlError(code, `${message} (line ${line}, column ${column})`, { reason, line, column });
  }

  private startsWith(token: string): boolean {
    return this.s.startsWith(token, this.i);
  }

  private skipSpace(): boolean {
    const from = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.i++;
    }
    return this.i > from;
  }

  private name(): string {
    NAME_RE.lastIndex = this.i;
    const m = NAME_RE.exec(this.s);
    if (!m) this.fail('bad-name', 'Expected an XML name.');
    this.i += m[0].length;
    return m[0];
  }

  private until(token: string, what: string): string {
    const end = this.s.indexOf(token, this.i);
    if (end < 0) this.fail('unterminated', `Unterminated ${what}.`);
    const body = this.s.slice(this.i, end);
    this.i = end + token.length;
    return body;
  }

  private xmlDeclaration(): void {
    // OUR CHOICE: white space before the declaration (not well-formed per XML 1.0) is tolerated;
    // some servers emit a stray newline, and it carries no risk.
    this.skipSpace();
    if (!/^<\?xml[\s?]/.test(this.s.slice(this.i, this.i + 6))) return;
    this.i += 5;
    const body = this.until('?>', 'XML declaration');
    if (!/^\s+version\s*=\s*(["'])1\.[0-9]+\1/.test(body)) this.fail('bad-declaration', 'XML declaration lacks a valid version.');
    const enc = /\sencoding\s*=\s*(["'])([^"']*)\1/.exec(body)?.[2];
    if (enc !== undefined && !/^(utf-?8|utf-?16|us-ascii)$/i.test(enc)) {
      this.fail('unsupported-encoding', `XML encoding '${enc}' is not supported (UTF-8 or UTF-16 only).`);
    }
  }

  /** Comments, processing instructions and white space between top-level markup. */
  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.startsWith('<!--')) this.comment();
      else if (this.startsWith('<?')) this.processingInstruction();
      else return;
    }
  }

  private comment(): void {
    this.i += 4;
    const body = this.until('-->', 'comment');
    if (body.includes('--') || body.endsWith('-')) this.fail('bad-comment', "A comment contains '--'.");
  }

  private processingInstruction(): void {
    this.i += 2;
    const target = this.name();
    if (target.toLowerCase() === 'xml') this.fail('misplaced-declaration', 'An XML declaration appears after the start of the document.');
    this.until('?>', 'processing instruction');
  }

  /** Parses the element at the cursor and everything inside it, iteratively (no recursion). */
  private element(): XmlElement {
    const stack: Frame[] = [];
    let root: XmlElement | undefined;
    const open = (): void => {
      const parent = stack[stack.length - 1];
      const { frame, selfClosing } = this.startTag(parent);
      if (parent) parent.el.children.push(frame.el);
      else root = frame.el;
      if (!selfClosing) {
        if (stack.length >= this.maxDepth) this.fail('too-deep', `XML nesting exceeds ${this.maxDepth} levels.`);
        stack.push(frame);
      }
    };
    open();
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (this.i >= this.s.length) this.fail('unclosed', `Element <${top.el.name}> is not closed.`);
      if (this.s[this.i] !== '<') {
        const end = this.s.indexOf('<', this.i);
        const raw = this.s.slice(this.i, end < 0 ? this.s.length : end);
        if (raw.includes(']]>')) this.fail('bad-text', "Text contains ']]>'.", this.i + raw.indexOf(']]>'));
        top.el.text += this.decode(raw, false, this.i);
        this.i += raw.length;
      } else if (this.startsWith('</')) {
        this.i += 2;
        const name = this.name();
        this.skipSpace();
        if (this.s[this.i] !== '>') this.fail('bad-end-tag', `Malformed end tag </${name}>.`);
        this.i++;
        if (name !== top.el.name) this.fail('mismatched-tag', `End tag </${name}> does not match <${top.el.name}>.`);
        stack.pop();
      } else if (this.startsWith('<!--')) {
        this.comment();
      } else if (this.startsWith('<![CDATA[')) {
        this.i += 9;
        top.el.text += this.until(']]>', 'CDATA section');
      } else if (this.startsWith('<?')) {
        this.processingInstruction();
      } else if (this.startsWith('<!')) {
        this.fail('bad-markup', 'Unexpected declaration inside an element.');
      } else {
        open();
      }
    }
    return root!;
  }

  private startTag(parent: Frame | undefined): { frame: Frame; selfClosing: boolean } {
    const tagAt = this.i;
    this.i++;
    const qname = this.name();
    const raw: { name: string; value: string; at: number }[] = [];
    // A Set, not a scan of `raw`: a hostile tag with 100 000s of attributes must stay linear.
    const written = new Set<string>();
    let selfClosing = false;
    for (;;) {
      const spaced = this.skipSpace();
      if (this.startsWith('/>')) {
        this.i += 2;
        selfClosing = true;
        break;
      }
      if (this.s[this.i] === '>') {
        this.i++;
        break;
      }
      if (this.i >= this.s.length) this.fail('unterminated', `Start tag <${qname}> is not terminated.`, tagAt);
      if (!spaced) this.fail('bad-attribute', `Expected white space before an attribute in <${qname}>.`);
      const at = this.i;
      const name = this.name();
      this.skipSpace();
      if (this.s[this.i] !== '=') this.fail('bad-attribute', `Attribute '${name}' has no value.`);
      this.i++;
      this.skipSpace();
      const quote = this.s[this.i];
      if (quote !== '"' && quote !== "'") this.fail('bad-attribute', `Attribute '${name}' value is not quoted.`);
      this.i++;
      const end = this.s.indexOf(quote, this.i);
      if (end < 0) this.fail('unterminated', `Attribute '${name}' value is not terminated.`, at);
      const rawValue = this.s.slice(this.i, end);
      if (rawValue.includes('<')) this.fail('bad-attribute', `Attribute '${name}' value contains '<'.`, this.i + rawValue.indexOf('<'));
      if (written.has(name)) this.fail('duplicate-attribute', `Attribute '${name}' appears twice.`, at);
      written.add(name);
      raw.push({ name, value: this.decode(rawValue, true, this.i), at });
      this.i = end + 1;
    }

    const inherited = parent?.scope ?? ROOT_SCOPE;
    const declared = new Map<string, string>();
    for (const a of raw) {
      const isDefault = a.name === 'xmlns';
      if (!isDefault && !a.name.startsWith('xmlns:')) continue;
      const prefix = isDefault ? '' : a.name.slice(6);
      if (!isDefault && (a.value === '' || prefix === 'xmlns' || (prefix === 'xml') !== (a.value === XML_NS))) {
        this.fail('bad-namespace', `Namespace declaration '${a.name}' is not allowed.`, a.at);
      }
      declared.set(prefix, a.value);
    }
    const scope: Scope = declared.size === 0 ? inherited : { own: declared, parent: inherited };

    const split = (q: string, at: number): [string, string] => {
      const colon = q.indexOf(':');
      if (colon < 0) return ['', q];
      const prefix = q.slice(0, colon);
      const local = q.slice(colon + 1);
      if (prefix === '' || !NAME_ONLY.test(local) || local.includes(':')) this.fail('bad-name', `'${q}' is not a valid qualified name.`, at);
      return [prefix, local];
    };
    const [prefix, local] = split(qname, tagAt + 1);
    const bound = lookupPrefix(scope, prefix);
    if (prefix !== '' && bound === undefined) this.fail('unbound-prefix', `Namespace prefix '${prefix}' is not declared.`, tagAt);
    const ns = bound ?? '';

    const attributes: XmlAttribute[] = [];
    const seen = new Set<string>();
    for (const a of raw) {
      const [p, l] = split(a.name, a.at);
      let attrNs = '';
      if (a.name === 'xmlns') attrNs = XMLNS_NS;
      else if (p !== '') {
        const bound = lookupPrefix(scope, p);
        if (bound === undefined) this.fail('unbound-prefix', `Namespace prefix '${p}' is not declared.`, a.at);
        attrNs = bound;
      }
      const key = `${attrNs}\u0000${l}`;
      if (seen.has(key)) this.fail('duplicate-attribute', `Attribute '${a.name}' appears twice after namespace resolution.`, a.at);
      seen.add(key);
      attributes.push({ name: a.name, prefix: p, local: l, ns: attrNs, value: a.value });
    }
    const el = new XmlElement(qname, prefix, local, ns, attributes, parent?.el ?? null);
    return { frame: { el, scope }, selfClosing };
  }

  /** Decodes references; in attribute values literal white space becomes a space (XML 1.0 §3.3.3). */
  private decode(raw: string, attribute: boolean, at: number): string {
    const normalised = attribute ? raw.replace(/[\t\n]/g, ' ') : raw;
    if (!normalised.includes('&')) return normalised;
    let out = '';
    let from = 0;
    for (;;) {
      const amp = normalised.indexOf('&', from);
      if (amp < 0) return out + normalised.slice(from);
      out += normalised.slice(from, amp);
      const semi = normalised.indexOf(';', amp);
      const ref = semi < 0 ? '' : normalised.slice(amp + 1, semi);
      if (ref.startsWith('#')) {
        const m = /^#(?:([0-9]{1,7})|x([0-9a-fA-F]{1,6}))$/.exec(ref);
        const cp = m ? (m[1] !== undefined ? Number(m[1]) : parseInt(m[2]!, 16)) : -1;
        const ch = cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
        if (ch === '' || ILLEGAL_CHAR.test(ch)) this.fail('bad-char-ref', `Character reference '&${ref};' is not a legal XML character.`, at + amp);
        out += ch;
      } else if (Object.prototype.hasOwnProperty.call(PREDEFINED, ref)) {
        out += PREDEFINED[ref];
      } else if (NAME_ONLY.test(ref)) {
        this.fail('undefined-entity', `Entity '&${ref};' is not one of XML's five predefined entities.`, at + amp, 'XML_ENTITY_UNDEFINED');
      } else {
        this.fail('bare-ampersand', "An '&' is not part of a reference; it must be written '&amp;'.", at + amp);
      }
      from = semi + 1;
    }
  }
}
