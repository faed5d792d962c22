/**
 * What a desk user can do, in the words the window shows them (ErrorEntry.userAction), for the
 * situations many codes share. No code names, commands or cmdlets: those go in `fix`, for the admin.
 */
/** Nothing the desk user can change: the network or the pool needs the admin. */
export const ASK_IT =
  'Tell your IT support what Tether shows here; nothing on the phone needs changing.';
/** A USB session fault Tether recovers from: a replug is all the user can add. */
export const REPLUG =
  "Unplug the phone's USB cable, wait a few seconds and plug it back in; Tether reconnects by itself.";
/** A transfer damaged on the way: the cable, the port or a hub. */
export const OTHER_CABLE =
  'Try another USB cable or another USB port on the computer (not an unpowered hub), then plug the phone back in.';
/** A fault that could be an attack on the USB link: retry once, then stop. */
export const ROGUE_PHONE =
  'Unplug the phone and plug it back in with another cable or port. If it keeps happening with this phone, stop and tell your IT support.';
/** Tether and the phone speak different versions: only an update helps. */
export const UPDATE_SOFTWARE = "Tell your IT support: Tether or the phone's software needs updating.";
/** A passing fault on the server or the way to it. */
export const RETRY_THEN_IT = 'Wait a minute and try again. If it fails again, tell your IT support.';
/** The pool's answer is wrong or missing: the user can only retry and report. */
export const POOL_LATER =
  'Try again later. If it keeps failing, tell your IT support; the phone cannot sign in until they fix it.';
/** A sign-in step that a fresh run usually gets past. */
export const SIGN_IN_AGAIN = 'Start the sign-in again. If it fails again, tell your IT support.';
/** A firmware transfer that failed its checks: the phone is unharmed. */
export const RETRY_FIRMWARE =
  'Start the sign-in again; the phone keeps its current software meanwhile and Tether sends the update afresh.';
