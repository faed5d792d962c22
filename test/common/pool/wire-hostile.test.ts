import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { buildGetAndPublishCertError, buildGetAndPublishCertResponse, parseGetAndPublishCertRequest, parseGetAndPublishCertResponse, buildGetAndPublishCertRequest } from '../../../common/pool/certprov-wire';
import { buildWebTicketResponse, parseWebTicketResponse, parseWebTicketRequest, buildWebTicketRequest } from '../../../common/pool/webticket-wire';
import { parseXml } from '../../../common/xml';
import { makeChain, makeCsr } from '../../support/csr';

const { csrPem } = makeCsr('sip:alice@contoso.test', 1024);
const chain = makeChain(csrPem);
const documents: Record<string, { text: string; parse: (t: string) => unknown }> = {
  rstr: {
    text: buildWebTicketResponse({
      context: 'c',
      assertionId: '_id',
      issuer: 'https://p/w',
      sipUri: 'sip:alice@contoso.test',
      appliesTo: 'https://p/c',
      created: '2026-11-25T10:00:00Z',
      expires: '2026-11-25T18:00:00Z',
      serverEntropy: Buffer.alloc(32, 3),
    }),
    parse: (t) => parseWebTicketResponse(t, parseXml(t)),
  },
  rst: {
    text: buildWebTicketRequest({ to: 'https://p/w', appliesTo: 'https://p/c', sipUri: 'sip:a@b', entropy: Buffer.alloc(32, 1), context: 'c', security: null }),
    parse: (t) => parseWebTicketRequest(parseXml(t)),
  },
  gapcRequest: {
    text: buildGetAndPublishCertRequest({ to: 'https://p/c', security: '', csrPem, deviceId: 'd', entity: 'a@b', requestId: 'r' }),
    parse: (t) => parseGetAndPublishCertRequest(parseXml(t)),
  },
  gapcResponse: {
    text: buildGetAndPublishCertResponse({ certificatePem: chain.leafPem, chainPems: [chain.intermediatePem, chain.rootPem] }),
    parse: (t) => parseGetAndPublishCertResponse(parseXml(t)),
  },
  errorInfo: { text: buildGetAndPublishCertError({ code: 'PublishFailed', message: 'data store unavailable' }), parse: (t) => parseGetAndPublishCertResponse(parseXml(t)) },
};

/** Succeeds, or fails with a typed error: never a TypeError, RangeError or a hang. */
function typedOrOk(parse: (t: string) => unknown, text: string): void {
  try {
    parse(text);
  } catch (err) {
    if (!(err instanceof TetherError)) throw new Error(`untyped failure: ${String(err)}`, { cause: err });
  }
}

describe('wire parsers on truncated and mutated input', () => {
  for (const [name, doc] of Object.entries(documents)) {
    it(`${name}: every truncation fails typed or parses`, () => {
      expect(() => doc.parse(doc.text)).not.toThrow();
      for (let cut = 0; cut < doc.text.length; cut += 7) typedOrOk(doc.parse, doc.text.slice(0, cut));
    });

    it(`${name}: random byte edits fail typed or parse`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(doc.text.length - 1), fc.integer({ min: 0, max: 127 })), { minLength: 1, maxLength: 6 }), (edits) => {
          const chars = doc.text.split('');
          for (const [at, code] of edits) chars[at] = String.fromCharCode(code);
          typedOrOk(doc.parse, chars.join(''));
        }),
        { numRuns: 300 },
      );
    });
  }
});
