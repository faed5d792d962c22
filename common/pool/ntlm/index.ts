export { NTLM_FLAGS, AV_ID, MSV_AV_FLAG_MIC_PRESENT, describeFlags, hasFlag } from './flags';
export {
  encodeNegotiate,
  decodeNegotiate,
  encodeChallenge,
  decodeChallenge,
  encodeAuthenticate,
  decodeAuthenticate,
  encodeAvPairs,
  decodeAvPairs,
  avString,
  avUtf16,
  DEFAULT_VERSION,
  NTLMSSP_SIGNATURE,
} from './messages';
export type { AvPair, NegotiateMessage, ChallengeMessage, AuthenticateMessage, AuthenticateFields, NtlmVersion } from './messages';
export { ntHash, ntowfV2, ntowfV2FromHash, computeNtlmV2, ntlmV2ClientBlob, hmacMd5, rc4, fileTime, fileTimeToMs, utf8ToUtf16le, wipe } from './crypto';
export { NtlmClient, buildAuthenticate, DEFAULT_CLIENT_FLAGS } from './client';
export type { NtlmCredentials, NtlmClientOptions, AuthenticateInputs } from './client';
export { createChallenge, verifyAuthenticate } from './server';
export type { NtlmServerIdentity, NtlmServerOptions, NtlmChallengeState, NtlmSecret, NtlmVerification, NtlmRejectReason } from './server';
export { NtlmHttpAcceptor } from './http-acceptor';
export type { NtlmHttpStep, NtlmHttpAcceptorOptions } from './http-acceptor';
