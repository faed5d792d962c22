import { SaxesParser, type SaxesTagNS } from 'saxes';
import { TetherError, type ErrorCode } from '../errors';
import type { StageId } from '../stages';
import { XmlElement } from './element';

/**
 * The project's one XML entry point, for hostile input: the well-formedness and namespace rules
 * are saxes' (a non-validating, namespace-aware parser that never loads a DTD or expands an
 * entity; it is what jsdom uses), and this module adds what a SOAP receiver needs around it
 * (docs/xml.md has the comparison with the hand-written parser this replaced):
 * - The size limit is checked before anything else (and while a streamed body arrives).
 * - Any DOCTYPE / ENTITY / ELEMENT / ATTLIST / NOTATION declaration is rejected before parsing:
 *   SOAP forbids DTDs, so there is no internal subset, no external entity, no entity expansion.
 * - Only the five predefined entities and numeric character references are decoded (saxes'
 *   default; a name it does not know is XML_ENTITY_UNDEFINED).
 * - Nesting is limited (maxDepth) and the declared encoding must be one we decoded with.
 * - Namespaces are resolved (Namespaces in XML 1.0); an unbound prefix is an error.
 */

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** 4 MiB: far above any SOAP answer the pool sends (a certificate chain is a few KiB). */
export const DEFAULT_MAX_XML_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_XML_DEPTH = 128;

export interface ParseXmlOptions {
  /** Largest accepted document in bytes (UTF-8 length for strings). */
  maxBytes?: number;
  /** Deepest accepted element nesting. */
  maxDepth?: number;
  /** The bootstrap stage to attribute errors to (each pool client knows its own). */
  stage?: StageId | null;
}

const DECLARATION = /<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

function xmlError(code: ErrorCode, message: string, stage: StageId | null | undefined, detail: Record<string, string | number> = {}): TetherError {
  return new TetherError(code, message, { ...(stage === undefined ? {} : { stage }), detail });
}

function tooLarge(size: number | string, maxBytes: number, stage: StageId | null | undefined): TetherError {
  return xmlError('XML_TOO_LARGE', `XML document exceeds the ${maxBytes}-byte limit.`, stage, { maxBytes, size });
}

/** UTF-8 length of a string, stopping early once it passes `limit`. */
function utf8LengthUpTo(s: string, limit: number): number {
  let n = 0;
  for (let i = 0; i < s.length && n <= limit; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function decodeBytes(bytes: Uint8Array, stage: StageId | null | undefined): string {
  let encoding = 'utf-8';
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) [encoding, start] = ['utf-16be', 2];
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) [encoding, start] = ['utf-16le', 2];
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes.subarray(start));
  } catch (cause) {
    throw new TetherError('XML_MALFORMED', `XML document is not valid ${encoding.toUpperCase()}.`, {
      ...(stage === undefined ? {} : { stage }),
      detail: { reason: 'bad-encoding' },
      cause,
    });
  }
}

/** saxes' messages → this module's `detail.reason` (the rest are 'not-well-formed'). */
const REASONS: readonly (readonly [RegExp, string])[] = [
  [/^duplicate attribute/, 'duplicate-attribute'],
  [/^unmatched closing tag|^unexpected close tag/, 'mismatched-tag'],
  [/^unclosed tag/, 'unclosed'],
  [/^unbound namespace prefix/, 'unbound-prefix'],
  [/prefix must be bound|undefine prefix|default namespace may not/, 'bad-namespace'],
  [/^disallowed character\.$|^malformed character entity/, 'illegal-character'],
  [/^document must contain a root/, 'no-root'],
  [/^documents may contain only one root|^text data outside of root/, 'content-outside-root'],
  [/XML declaration|^version number|^standalone/, 'bad-declaration'],
];

/** Parses one XML document into an element tree; every failure is a typed XML_* error. */
export function parseXml(input: string | Uint8Array, options: ParseXmlOptions = {}): XmlElement {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_XML_DEPTH;
  const stage = options.stage;
  let text: string;
  if (typeof input === 'string') {
    if (input.length > maxBytes) throw tooLarge(`>${maxBytes}`, maxBytes, stage);
    const bytes = input.length * 3 <= maxBytes ? 0 : utf8LengthUpTo(input, maxBytes);
    if (bytes > maxBytes) throw tooLarge(`>${maxBytes}`, maxBytes, stage);
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  } else {
    if (input.byteLength > maxBytes) throw tooLarge(input.byteLength, maxBytes, stage);
    text = decodeBytes(input, stage);
  }
  const declaration = DECLARATION.exec(text);
  if (declaration) {
    throw xmlError('XML_DTD_FORBIDDEN', 'XML document has a DTD or entity declaration; SOAP forbids them and Tether refuses them.', stage, {
      offset: declaration.index,
    });
  }
  // OUR CHOICE: white space before the XML declaration (not well-formed) is tolerated; some
  // servers emit a stray newline, and it carries no risk.
  const lead = /^[ \t\r\n]+(?=<\?xml[ \t\r\n?])/.exec(text);
  if (lead) text = text.slice(lead[0].length);

  // XML 1.0 rules even for a document that declares 1.1 (SOAP is 1.0; 1.1 admits &#1; and the like).
  const parser = new SaxesParser({ xmlns: true, position: true, defaultXMLVersion: '1.0', forceXMLVersion: true });
  const fail = (reason: string, message: string, code: ErrorCode = 'XML_MALFORMED'): never => {
    throw xmlError(code, `${message} (line ${parser.line}, column ${parser.column})`, stage, { reason, line: parser.line, column: parser.column });
  };
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  parser.on('xmldecl', (decl) => {
    const enc = decl.encoding;
    if (enc !== undefined && !/^(utf-?8|utf-?16|us-ascii)$/i.test(enc)) {
      fail('unsupported-encoding', `XML encoding '${enc}' is not supported (UTF-8 or UTF-16 only).`);
    }
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (stack.length >= maxDepth) fail('too-deep', `XML nesting exceeds ${maxDepth} levels.`);
    const attributes = Object.values(tag.attributes).map((a) => ({ name: a.name, prefix: a.prefix, local: a.local, ns: a.uri, value: a.value }));
    const parent = stack[stack.length - 1] ?? null;
    const el = new XmlElement(tag.name, tag.prefix, tag.local, tag.uri, attributes, parent);
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => void stack.pop());
  const addText = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('error', (err) => {
    // saxes prefixes its message with "line:column: ".
    const message = err.message.replace(/^\d+:\d+: /, '');
    if (/^undefined entity/.test(message)) fail('undefined-entity', "An entity is not one of XML's five predefined entities.", 'XML_ENTITY_UNDEFINED');
    const reason = REASONS.find(([re]) => re.test(message))?.[1] ?? 'not-well-formed';
    fail(reason, `XML document is not well-formed: ${message}`);
  });
  parser.write(text).close();
  if (root === null) return fail('no-root', 'XML document has no root element.');
  return root;
}

/**
 * Reads a streamed body with the size limit enforced as bytes arrive (so a 50 MB answer is
 * refused after maxBytes, not after downloading it), then parses it.
 */
export async function parseXmlStream(source: AsyncIterable<Uint8Array>, options: ParseXmlOptions = {}): Promise<XmlElement> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Leaving the loop early calls the iterator's return(), which destroys a Node stream.
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(`>${maxBytes}`, maxBytes, options.stage);
    chunks.push(chunk);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return parseXml(all, options);
}

