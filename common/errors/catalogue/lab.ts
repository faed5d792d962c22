import type { ErrorTable } from '../entry';

/** Typed errors of the lab area: code → stage, summary and fix. */
export const labErrors = {
  LAB_STATE_CORRUPT: {
    stage: null,
    summary: "The lab's state folder holds a file it cannot read.",
    fix: 'Move the state folder (default .tether-lab/) aside and start the lab again; it makes a new CA and users.',
    userAction: 'Start the test lab again with a new state folder.',
  },
  LAB_STATE_UNWRITABLE: {
    stage: null,
    summary: 'The lab cannot create or write its state folder.',
    fix: 'Choose a folder you can write with --state DIR, or free some disk space.',
    userAction: 'Start the test lab with a folder you can write to, or free some disk space.',
  },
  LAB_LISTEN_FAILED: {
    stage: null,
    summary: 'The lab could not open one of its ports.',
    fix: 'Pick another port (--http-port, --https-port, --dns-port) or leave it out to use a free one.',
    userAction: 'Close the program using that port, or start the test lab on other ports.',
  },
  LAB_SERVICE_FAILED: {
    stage: null,
    summary: 'A lab service failed to start.',
    fix: 'Read the message for the service that failed; the lab stopped everything it had started.',
    userAction: 'Start the test lab again; the message names the part that failed.',
  },
  LAB_UNKNOWN_FAULT: {
    stage: null,
    summary: 'That is not a fault the lab knows.',
    fix: 'Use one of the fault names listed in docs/lab.md.',
    userAction: "Choose a fault from the test lab's list of faults.",
  },
  LAB_CSR_INVALID: {
    stage: 'certificate',
    summary: 'The certificate request is not a well-formed PKCS#10 request with an RSA key.',
    fix: 'Send a PEM or DER PKCS#10 request with an RSA key of 1024 bits or more.',
    userAction: 'Start the sign-in again so the phone makes a new certificate request.',
    cmdlet: 'Test-CsPhoneBootstrap -PhoneOrExt <number> -PIN <pin> -UserSipAddress <sip> -Verbose',
  },
  LAB_CSR_SIGNATURE: {
    stage: 'certificate',
    summary: "The certificate request's signature does not match its public key.",
    fix: 'Make a new key pair and request on the phone and send the request unchanged.',
    userAction: 'Start the sign-in again so the phone makes a new certificate request.',
    cmdlet: 'Test-CsPhoneBootstrap -PhoneOrExt <number> -PIN <pin> -UserSipAddress <sip> -Verbose',
  },
} as const satisfies ErrorTable;
