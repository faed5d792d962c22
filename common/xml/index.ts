export { parseXml, parseXmlStream, DEFAULT_MAX_XML_BYTES, DEFAULT_MAX_XML_DEPTH, XML_NS, XMLNS_NS } from './parse';
export type { ParseXmlOptions } from './parse';
export { XmlElement, childText } from './element';
export type { XmlAttribute } from './element';
export { escapeXml } from './escape';
