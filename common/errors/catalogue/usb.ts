import type { ErrorTable } from '../entry';

/** Typed errors of the usb area: code → stage, summary and fix. */
export const usbErrors = {
} as const satisfies ErrorTable;
