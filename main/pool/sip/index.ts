export { registerWithRegistrar } from './register-client';
export { registrarSocketError } from '../../../common/pool/sip';
export type { RegisterOptions, RegistrarEndpoint, RegistrationResult } from './register-client';
