import type { ErrorTable } from '../entry';

/**
 * Typed errors of signing in from outside the corporate network (docs/pool/external.md): a phone
 * must have signed in internally once, and Tether talks only TLS to the external Web Services.
 */
export const externalErrors = {
  EXTERNAL_NEEDS_INTERNAL_SIGN_IN: {
    stage: 'find-update',
    summary: 'This phone has not signed in inside the corporate network yet, so it cannot sign in from outside.',
    fix: 'Sign the phone in once on the corporate network. That sign-in gives it the external Device Update address, the pool\'s certificate chain and its own certificate; after it, the phone can sign in from outside.',
    userAction: 'Sign in once at the office, with the phone plugged into the corporate network. After that it also signs in from home.',
  },
  EXTERNAL_FACTS_INVALID: {
    stage: 'find-update',
    summary: 'What was saved from this phone\'s internal sign-in cannot be used for a sign-in from outside.',
    fix: 'Sign the phone in once more inside the corporate network; Tether then saves fresh sign-in facts for it.',
    userAction: 'Sign in once more at the office, on the corporate network, then try again from outside.',
  },
  EXTERNAL_PLAIN_HTTP_REFUSED: {
    stage: 'ca-chain',
    summary: 'Tether did not send a plain-HTTP request to the external Web Services: outside the corporate network it uses TLS (https) only.',
    fix: 'The external address in use starts with http://. Use the https:// external Web Services address (the pool\'s WebTicketExternalUri and DeviceUpdateDownloadExternalUri); signing the phone in once more inside refreshes the saved one.',
    userAction: 'Sign in once more at the office, then try again from outside. If it happens again, tell IT.',
    cmdlet: 'Get-CsService -WebServer | Select-Object Identity, ExternalFqdn',
  },
  EXTERNAL_UPDATE_CERT_REFUSED: {
    stage: 'check-update',
    summary: 'The external Device Update service did not accept the phone\'s certificate.',
    fix: 'The certificate from the internal sign-in is no longer accepted (expired, no longer published, or the account is locked). Sign the phone in inside the corporate network again to get a new one; unlock the account if it is locked.',
    userAction: 'Sign in once more at the office. If your account was locked, ask IT to unlock it first.',
    cmdlet: 'Get-CsDeviceUpdateConfiguration',
  },
  EXTERNAL_CHAIN_CHANGED: {
    stage: 'ca-chain',
    summary: 'The external Web Services present a certificate that does not chain to the pool\'s certificate chain saved at the internal sign-in.',
    fix: 'If the pool\'s certificates were renewed, sign the phone in inside the corporate network once more so it gets the new chain. Otherwise check the certificate the reverse proxy (external Web Services) presents.',
    userAction: 'Sign in once more at the office. If it still fails from outside, tell IT.',
  },
} as const satisfies ErrorTable;
