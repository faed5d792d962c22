import { TetherError } from '../errors';
import type { StageId } from '../stages';

/** One attribute, with its namespace resolved ('' = no namespace, as for unprefixed attributes). */
export interface XmlAttribute {
  /** Qualified name as written, e.g. `wsu:Id`. */
  readonly name: string;
  readonly prefix: string;
  readonly local: string;
  readonly ns: string;
  readonly value: string;
}

/**
 * One element of a parsed document. Namespaces are resolved, so callers match on
 * (namespace URI, local name) and never on the prefix a server happened to choose.
 */
export class XmlElement {
  readonly children: XmlElement[] = [];
  /** Direct character data (text and CDATA), references decoded, in document order. */
  text = '';

  constructor(
    /** Qualified name as written, e.g. `s:Envelope`. */
    readonly name: string,
    readonly prefix: string,
    readonly local: string,
    /** Namespace URI, '' when the element is in no namespace. */
    readonly ns: string,
    readonly attributes: readonly XmlAttribute[],
    readonly parent: XmlElement | null,
  ) {}

  /** First child with this namespace and local name. */
  child(ns: string, local: string): XmlElement | undefined {
    return this.children.find((c) => c.ns === ns && c.local === local);
  }

  /** All children with this namespace and local name (all children when both are omitted). */
  childrenNamed(ns?: string, local?: string): XmlElement[] {
    return this.children.filter((c) => (ns === undefined || c.ns === ns) && (local === undefined || c.local === local));
  }

  /** First child with this name, or a typed XML_UNEXPECTED error naming what is missing. */
  requireChild(ns: string, local: string, stage?: StageId | null): XmlElement {
    const found = this.child(ns, local);
    if (found) return found;
    throw new TetherError('XML_UNEXPECTED', `<${this.local}> has no <${local}> child (namespace '${ns}').`, {
      ...(stage === undefined ? {} : { stage }),
      detail: { parent: this.local, missing: local, ns },
    });
  }

  /** Follows a path of (namespace, local) steps through first matches. */
  path(...steps: readonly (readonly [ns: string, local: string])[]): XmlElement | undefined {
    return steps.reduce<XmlElement | undefined>((at, [ns, local]) => at?.child(ns, local), this);
  }

  /** Every descendant (depth first, document order) with this namespace and local name. */
  descendants(ns: string, local: string): XmlElement[] {
    const out: XmlElement[] = [];
    const stack: XmlElement[] = [...this.children].reverse();
    while (stack.length > 0) {
      const el = stack.pop()!;
      if (el.ns === ns && el.local === local) out.push(el);
      for (let i = el.children.length - 1; i >= 0; i--) stack.push(el.children[i]!);
    }
    return out;
  }

  /** First descendant with this namespace and local name. */
  find(ns: string, local: string): XmlElement | undefined {
    return this.descendants(ns, local)[0];
  }

  /** Attribute value by local name and namespace ('' = unprefixed attribute). */
  attr(local: string, ns = ''): string | undefined {
    return this.attributes.find((a) => a.local === local && a.ns === ns)?.value;
  }

  /** All character data of this element and its descendants, in document order. */
  textContent(): string {
    // Direct text is stored concatenated, so interleaving with children is not kept; the
    // SOAP and Lync documents we read never mix text and elements.
    return this.text + this.children.map((c) => c.textContent()).join('');
  }
}

/** Trimmed text of the first child (ns, local), or undefined when there is no such child. */
export function childText(el: XmlElement, ns: string, local: string): string | undefined {
  return el.child(ns, local)?.text.trim();
}
