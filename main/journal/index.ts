export { Journal, JOURNAL_FILE, type JournalOptions } from './journal';
export { processOwner, pidAlive } from './owner';
export { MIGRATIONS, SCHEMA_VERSION } from './schema';
export { findSecretField, isSecretKey } from './secrets';
export * from './types';
