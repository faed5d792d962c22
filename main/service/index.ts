export { createTetherService, type FleetDevices, type TetherServiceHost, type TetherServiceOptions } from './service';
export { MemoryJournal } from './memory-journal';
export type { JournalPort } from './journal-port';
