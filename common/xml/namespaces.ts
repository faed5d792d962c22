/** Namespace URIs the pool's SOAP documents use ([S26]–[S29]), so callers match on one spelling. */
export const NS = {
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wst: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/',
  wstep: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment',
  ocsAuth: 'http://schemas.microsoft.com/OCS/AuthWebServices/',
} as const;
