export { getAndPublishCert, certProvFailure } from './get-and-publish-cert';
export type { GetAndPublishCertOptions, IssuedCertificate } from './get-and-publish-cert';
export { provisionCertificate } from './provision';
export type { ProvisionOptions, ProvisionResult } from './provision';
