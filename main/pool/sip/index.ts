export { registerWithRegistrar, registrarSocketError } from './register-client';
export type { RegisterOptions, RegistrarEndpoint, RegistrationResult } from './register-client';
