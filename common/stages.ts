/**
 * The phone's nine bootstrap stages, from the vendor's "Device Connection Process"
 * (see docs/reference.md §0 and §7). Every typed error names one of these,
 * or `null` when it belongs to the USB tether itself rather than to a stage.
 */
export const STAGES = [
  { id: 'vlan', n: 1, title: 'Finding the VLAN ID' },
  { id: 'ip', n: 2, title: 'Obtain an IP address' },
  { id: 'find-update', n: 3, title: 'Find the Device Update Web service' },
  { id: 'check-update', n: 4, title: 'Check for updates' },
  { id: 'registrar', n: 5, title: 'Obtain Registrar FQDN and Web Service URL' },
  { id: 'ca-chain', n: 6, title: 'Connect to Web Services and download the root CA chain' },
  { id: 'auth', n: 7, title: 'Authentication' },
  { id: 'certificate', n: 8, title: 'Receive and publish certificate' },
  { id: 'logon', n: 9, title: 'Log on to the Lync Server' },
] as const;

export type StageId = (typeof STAGES)[number]['id'];

export function isStageId(value: unknown): value is StageId {
  return typeof value === 'string' && STAGES.some((s) => s.id === value);
}

export function stageNumber(id: StageId): number {
  return STAGES.find((s) => s.id === id)!.n;
}
