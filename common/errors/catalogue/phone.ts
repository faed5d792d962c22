import type { ErrorTable } from '../entry';

/**
 * Typed errors of the phone area: a bootstrap run driven with a tethered phone
 * (main/bootstrap/phone-bootstrap.ts): pairing, what the phone learnt on its network, PIN support,
 * and the phone's own sign-in (stage 9) as it reports it.
 */
export const phoneErrors = {
  PAIRING_REFUSED: {
    stage: null,
    summary: 'The pairing code was not confirmed, so nothing secret was sent to the phone.',
    fix: 'Compare the six-digit code on the phone’s display with the one Tether shows; confirm only when they match. If they never match, another program may be talking to the phone: unplug it and plug it in again.',
    userAction: "Compare the six-digit code on the phone's screen with the one Tether shows and confirm only if they are the same. If they never match, unplug the phone and plug it in again.",
  },
  PHONE_NO_IP_LEASE: {
    stage: 'ip',
    summary: 'The phone has no IP address (no DHCP lease on its network port).',
    fix: 'Check the phone’s Ethernet cable and switch port (and the voice VLAN), and that a DHCP server serves that VLAN; the phone shows “Obtaining IP address” until one answers.',
    userAction: "Check that the phone's network cable is plugged in firmly at both ends (the phone and the wall or switch), then try again.",
    cmdlet: 'Test-CsPhoneBootstrap -PhoneOrExt <number> -PIN <pin> -Verbose',
  },
  PHONE_NO_DOMAIN: {
    stage: 'find-update',
    summary: 'Tether does not know the SIP domain to look for the pool in: the phone’s DHCP lease names none and none was given.',
    fix: 'Give the user’s SIP domain (the part after @ in the sign-in address), or have the DHCP server hand out the DNS domain (option 15).',
    userAction: "Type your full sign-in address (name@company.com) so Tether knows your company's domain, or ask your IT support for it.",
  },
  PHONE_PIN_UNSUPPORTED: {
    stage: 'auth',
    summary: 'This phone model cannot sign in with a phone number and PIN.',
    fix: 'Sign this phone in with Windows credentials (domain, user name and password) instead; PIN sign-in works only on the phones made for it (the CX700 has no PIN sign-in).',
    userAction: 'Sign this phone in with your Windows user name and password instead of a PIN.',
  },
  PHONE_REGISTRATION_TIMEOUT: {
    stage: 'logon',
    summary: 'The phone got its certificate but did not report signing in to the Registrar in time.',
    fix: 'Check the phone’s network path to the Registrar (SIP over TLS, usually port 5061) and the Front End service; read the phone’s log (tether phone … logs) and sign in again.',
    userAction: "Check the phone's network cable, then start the sign-in again.",
    cmdlet: 'Test-CsClientAuth -UserSipAddress <sip> -UserCredential <cred> -TargetFQDN <pool>',
  },
} as const satisfies ErrorTable;
