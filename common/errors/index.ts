export { TetherError, toTetherError } from './tether-error';
export { troubleshootingOf } from './troubleshooting';
export type { ErrorDetail, SerializedTetherError, TetherErrorOptions } from './tether-error';
export { CATALOGUE, AREA_TABLES, entryFor, isErrorCode } from './catalogue';
export type { ErrorCode } from './catalogue';
export type { ErrorEntry, ErrorTable } from './entry';
