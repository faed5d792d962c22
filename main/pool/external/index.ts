export { verifyExternalChain, type ExternalChain, type ExternalChainInput } from './chain';
export {
  certificateThumbprint,
  FACTS_FORMAT,
  internalSignInFacts,
  isFactsCertificate,
  parseInternalSignInFacts,
  requireInternalSignIn,
  type FactsInput,
  type InternalSignInFacts,
} from './facts';
export { findExternalRegistrar } from './registrar';
export { ExternalHttpClient, requireExternalTls } from './tls-only';
export { checkExternalUpdate, type ExternalUpdateInput, type ExternalUpdateResult } from './update';
