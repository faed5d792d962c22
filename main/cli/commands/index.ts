import type { Command } from '../io';
import { benchCommand } from './bench';
import { demoCommand } from './demo';
import { devicesCommand } from './devices';
import { discoverCommand } from './discover';
import { historyCommand } from './history';
import { jobsCommand } from './jobs';
import { labCommand } from './lab';
import { phoneCommand } from './phone';
import { probeCommand } from './probe';
import { provisionCommand } from './provision';
import { startCommand } from './start';
import { testAuthCommand } from './test-auth';
import { testBootstrapCommand } from './test-bootstrap';

/**
 * Every CLI command. Each lives in its own module beside this file and is listed here once.
 */
export const COMMANDS: readonly Command[] = [
  benchCommand,
  demoCommand,
  devicesCommand,
  discoverCommand,
  historyCommand,
  jobsCommand,
  labCommand,
  phoneCommand,
  probeCommand,
  provisionCommand,
  startCommand,
  testAuthCommand,
  testBootstrapCommand,
];
