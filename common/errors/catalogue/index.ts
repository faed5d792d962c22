import type { ErrorEntry } from '../entry';
import { authErrors } from './auth';
import { certprovErrors } from './certprov';
import { chainErrors } from './chain';
import { discoveryErrors } from './discovery';
import { generalErrors } from './general';
import { jobErrors } from './job';
import { journalErrors } from './journal';
import { labErrors } from './lab';
import { phoneErrors } from './phone';
import { protocolErrors } from './protocol';
import { registrarErrors } from './registrar';
import { transportErrors } from './transport';
import { updateErrors } from './update';
import { usbErrors } from './usb';

/**
 * Every typed error Tether can raise, keyed by code. Each area keeps its own table so modules
 * can grow their errors without touching one shared file; codes must be unique across tables.
 */
export const CATALOGUE = {
  ...generalErrors,
  ...usbErrors,
  ...protocolErrors,
  ...phoneErrors,
  ...discoveryErrors,
  ...updateErrors,
  ...chainErrors,
  ...authErrors,
  ...certprovErrors,
  ...registrarErrors,
  ...labErrors,
  ...transportErrors,
  ...jobErrors,
  ...journalErrors,
} as const;

export type ErrorCode = keyof typeof CATALOGUE;

export const AREA_TABLES: Readonly<Record<string, Readonly<Record<string, ErrorEntry>>>> = {
  general: generalErrors,
  usb: usbErrors,
  protocol: protocolErrors,
  phone: phoneErrors,
  discovery: discoveryErrors,
  update: updateErrors,
  chain: chainErrors,
  auth: authErrors,
  certprov: certprovErrors,
  registrar: registrarErrors,
  lab: labErrors,
  transport: transportErrors,
  job: jobErrors,
  journal: journalErrors,
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(CATALOGUE, value);
}

export function entryFor(code: ErrorCode): ErrorEntry {
  return CATALOGUE[code];
}
