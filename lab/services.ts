import { chainService } from './chain/service';
import type { LabService } from './context';
import { registrarService } from './registrar/service';
import { webServices } from './webservices';
import { deviceUpdateService } from './device-update';
import { dhcpService } from './dhcp';

/**
 * Every service the lab pool runs, started in this order with one shared LabContext (and stopped
 * in reverse). Each helper module adds ONE entry here.
 */
export const LAB_SERVICES: LabService[] = [
  webServices,
  deviceUpdateService,
  chainService,
  registrarService,
  dhcpService,
];
