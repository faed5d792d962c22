export { DEFAULT_SIP_LIMITS, parseSipMessage, serializeSipMessage, SipStreamDecoder } from './codec';
export type { SipLimits } from './codec';
export { addressOfRecord, formatAuthChallenge, parseAuthChallenge, parseNameAddr, parseSipUri } from './fields';
export type { AuthChallenge, NameAddr, SipUri } from './fields';
export { bodyText, canonicalHeaderName, header, headers, SIP_VERSION } from './message';
export type { SipHeader, SipMessage, SipRequest, SipResponse } from './message';
export {
  buildProvisioningBody,
  MAX_PROVISIONING_BYTES,
  parseProvisioningBody,
  PROVISIONING_CONTENT_TYPE,
  PROVISIONING_NS,
  PROVISIONING_PROPERTY,
} from './provisioning';
export type { RegistrarProvisioning } from './provisioning';
export {
  buildRegister,
  buildResponse,
  DEFAULT_REGISTER_EXPIRES,
  interpretRegisterResponse,
  matchesRequest,
  newRegisterIds,
  outcomeError,
  REGISTRAR_REALM,
  registerAddresses,
  tlsDskChallenge,
} from './register';
export type { RegisterIds, RegisterOutcome, RegisterRequestOptions } from './register';
export { registrarSocketError, runRegisterExchange } from './exchange';
export { clientKeyTooSmall, MIN_CLIENT_RSA_BITS, weakClientKeyError } from './client-key';
export type { RegisterExchangeOptions, RegisterSocket } from './exchange';
export { RegisterTransaction } from './transaction';
export type { Registration, TransactionStep } from './transaction';
export { securityAssociationRefreshMs, nextRegistrationMs, SA_MAX_LIFETIME_MS, SA_REFRESH_MARGIN_MS, REGISTRATION_REFRESH_MARGIN_S } from './sa-timer';
export { signatureBuffer, signatureMatches, signBuffer } from './signature';
export type { SignatureParams } from './signature';
export { TLS_DSK, TlsDskClientAuth } from './tls-dsk-client';
export type { SecurityAssociation, TlsDskCredential } from './tls-dsk-client';
export { TLS_DSK_INNER_TLS, TLS_DSK_KEY_LABEL, TlsDskClientHandshake, TlsDskServerHandshake, tlsDskKeys } from './tls-dsk-engine';
export type { ClientStep, ServerStep, TlsDskKeys, TlsDskPeer } from './tls-dsk-engine';
export { TlsFlightCollector } from './tls-dsk-flight';
export type { TlsFlight } from './tls-dsk-flight';
