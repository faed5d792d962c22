import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config';

/**
 * `npm run test:fast`: the edit-test loop. The same suite without the files that are slow for a
 * reason other than the code under test — large randomised sweeps, child processes (the CLI
 * spawned end to end) and external peers (dnsmasq, network namespaces). `npm test` runs them all.
 */
export const SLOW_TESTS = [
  // Sweeps: thousands to 100 000 random inputs, or every lab route × method × hostile body.
  'test/**/fuzz.test.ts',
  'test/**/csr-fuzz.test.ts',
  'test/lab/hostile.test.ts',
  // The CLI spawned as a child process.
  'test/main/cli/commands/demo.test.ts',
  'test/main/cli/commands/lab.test.ts',
  'test/main/cli/commands/test-bootstrap.test.ts',
  'test/main/cli/lab-endpoints.test.ts',
  'test/lab/dhcp/cli.test.ts',
  // SIGKILL sweeps over child processes (the journal alone, and Tether with the lab and phones).
  'test/main/journal/crash.test.ts',
  'test/main/service/kill.test.ts',
  // The benchmark's smoke run (every bench, small sizes).
  'test/main/cli/commands/bench.test.ts',
  // External peers.
  'test/main/pool/discovery/dns-dnsmasq.test.ts',
  'test/main/pool/discovery/dhcp-netns.test.ts',
];

export default mergeConfig(base, defineConfig({ test: { exclude: ['**/node_modules/**', ...SLOW_TESTS] } }));
