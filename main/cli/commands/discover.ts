import { toTetherError, type SerializedTetherError } from '../../../common/errors';
import { VLAN_VENDOR_CLASS } from '../../../common/pool/dhcp-options';
import type { PoolResolver } from '../../pool/net/resolver';
import { tcpReachable } from '../../pool/net/tcp-reach';
import { dhcpInform, type DhcpInformResult } from '../../pool/discovery/dhcp-inform';
import { discoverPool, type DiscoveryResult } from '../../pool/discovery/discover';
import type { ReachabilityProbe } from '../../pool/discovery/registrar';
import { flag, parseArgs } from '../args';
import { dhcpInformTarget, dhcpServerAddress, resolverFor } from '../inputs';
import { errorReport, errorText, EXIT, exitCodeFor, usageError, type CliIO, type Command } from '../io';
import { LAB_FLAG, labFlagHelp, readLabEndpoints } from '../lab-endpoints';

const USAGE = `Usage: tether discover (--domain DOMAIN [--dns HOST:PORT] | --lab [DIR])
                        [--dhcp-inform IFACE [--dhcp-server IP[:PORT]] [--dhcp-client-port N] [--dhcp-vlan]]
                        [--connect] [--strict] [--json]

Finds what a Lync phone would find on this network (stages 3 and 5):
  every Registrar candidate in the vendor's order (internal SRV TLS, DHCP TLS, internal SRV TCP,
  DHCP TCP, external SRV TLS, external SRV TCP, then A-record fallbacks) and why each was skipped,
  the chosen Registrar, the Web Services (CertProv) URL and the Device Update FQDN.
  Warns when the Web Services host does not resolve (a stale DHCP option 43).

  --domain DOMAIN      the SIP domain, e.g. contoso.com
  --dns HOST:PORT      ask this DNS server instead of the system's
${labFlagHelp(23)}
  --dhcp-inform IFACE  also send a DHCPINFORM (vendor class MS-UC-Client) on IFACE and use its
                       options 43 and 120 (needs port 68: run as administrator)
  --dhcp-server IP[:PORT]
                       also send the DHCPINFORM straight to this server; with a PORT other
                       than 67 (e.g. the lab's responder) it goes ONLY there, not broadcast
  --dhcp-client-port N send from UDP port N instead of 68; 0 takes a free port (no
                       administrator rights needed; the server must answer the sender's port,
                       as the lab's responder does)
  --dhcp-vlan          also ask with vendor class CPE-OCPHONE for the voice VLAN ID (stage 1)
  --connect            also check that each candidate accepts a TCP connection
  --strict             exit 1 on a warning too (e.g. the Web Services host does not resolve);
                       without it the exit code says only whether a Registrar was found
  --json               print one JSON document
`;

const FLAGS = {
  domain: flag.string(),
  dns: flag.string(),
  'dhcp-inform': flag.string(),
  'dhcp-server': flag.value(dhcpServerAddress),
  'dhcp-client-port': flag.port(0),
  'dhcp-vlan': flag.boolean(),
  connect: flag.boolean(),
  strict: flag.boolean(),
  lab: LAB_FLAG,
  json: flag.boolean(),
};

async function parseDiscoverArgs(args: string[]) {
  const { flags } = parseArgs(args, FLAGS, { usage: USAGE });
  if (!flags.domain && flags.lab === undefined) throw usageError(`--domain (or --lab) is required.\n\n${USAGE}`);
  if ((flags['dhcp-server'] || flags['dhcp-vlan'] || flags['dhcp-client-port'] !== undefined) && !flags['dhcp-inform']) {
    throw usageError('--dhcp-server, --dhcp-client-port and --dhcp-vlan need --dhcp-inform IFACE.');
  }
  // --lab: the running lab's DNS server, domain and (with --dhcp-inform) DHCP responder; flags win.
  const lab = flags.lab === undefined ? null : await readLabEndpoints(flags.lab);
  return {
    ...flags,
    domain: flags.domain || lab!.domain,
    dns: flags.dns ?? lab?.dns,
    'dhcp-server': flags['dhcp-server'] ?? (flags['dhcp-inform'] && lab?.dhcp ? lab.dhcp : undefined),
  };
}

/** A TCP connect through the configured resolver: does the candidate answer at all? */
function tcpProbe(resolver: PoolResolver, timeoutMs = 3000): ReachabilityProbe {
  return (host, port) => tcpReachable(resolver, host, port, timeoutMs);
}

interface VlanProbe {
  readonly answer: DhcpInformResult | null;
  readonly error: SerializedTetherError | null;
}

function describe(r: DiscoveryResult, dhcp: DhcpInformResult | null, vlan: VlanProbe | null): string {
  const lines: string[] = [];
  lines.push(`Discovery for ${r.domain} (DNS server: ${r.dnsServer ?? 'system'})`);
  if (vlan) {
    const v = vlan.answer?.vlan;
    lines.push(
      `VLAN (CPE-OCPHONE): ${
        vlan.error
          ? `${vlan.error.code}: ${vlan.error.message}`
          : v == null
            ? `the DHCPACK from ${vlan.answer?.server} has no option 43`
            : v.id !== null
              ? `VLAN ID ${v.id} (from ${vlan.answer?.server})`
              : `unusable: ${v.error?.message} (hex ${v.hex})`
      }`,
    );
  }
  if (dhcp) {
    lines.push(`DHCP on ${dhcp.interfaceName} (${dhcp.clientIp}): DHCPACK from ${dhcp.server} after ${dhcp.attempts} DHCPINFORM(s)`);
    const o43 = dhcp.option43;
    lines.push(`  option 43:  ${o43 === null ? 'absent' : o43.decoded ? o43.decoded.certProvUrl : `unusable: ${o43.error?.message} (hex ${o43.hex})`}`);
    if (o43?.decoded) {
      const d = o43.decoded;
      lines.push(`              (1 UCIdentifier ${d.ucIdentifier}, 2 URLScheme ${d.urlScheme}, 3 WebServerFqdn ${d.webServerFqdn}, 4 WebServerPort ${d.webServerPort}, 5 CertProvRelPath ${d.certProvRelPath})`);
    }
    const o120 = dhcp.option120;
    lines.push(`  option 120: ${o120 === null ? 'absent' : o120.names ? o120.names.join(', ') : `unusable: ${o120.error?.message} (hex ${o120.hex})`}`);
    const o15 = dhcp.option15;
    if (o15) lines.push(`  option 15:  ${o15.name ?? `unusable: ${o15.error?.message} (hex ${o15.hex})`}`);
  } else if (r.dhcpError) {
    lines.push(`DHCP: ${r.dhcpError.code}: ${r.dhcpError.message}`);
  }
  lines.push('', "Registrar candidates, in the phone's order:");
  for (const c of r.candidates) {
    const target = c.host === null ? '-' : `${c.host}:${c.port}`;
    const srv = c.priority === null ? '' : ` (priority ${c.priority}, weight ${c.weight})`;
    const verdict = c.status === 'chosen' ? 'CHOSEN' : c.status === 'usable' ? 'usable' : 'skipped';
    lines.push(`  ${c.step}. ${c.label}: ${c.query} -> ${target}${srv}`);
    lines.push(`       ${verdict}: ${c.reason}${c.addresses.length > 0 ? ` [${c.addresses.join(', ')}]` : ''}`);
  }
  lines.push('');
  lines.push(
    `Registrar:     ${r.registrar ? `${r.registrar.host}:${r.registrar.port} (${r.registrar.transport.toUpperCase()}, step ${r.registrar.step}: ${r.registrar.label})` : `none (${r.registrarError?.message})`}`,
  );
  lines.push(`Web Services:  ${r.webServices ? `${r.webServices.url} (${r.webServices.source === 'dhcp-option-43' ? 'from DHCP option 43' : 'derived from the Registrar FQDN'})` : 'unknown'}`);
  const check = r.webServicesCheck;
  if (check?.resolves) lines.push(`               ${check.host} -> ${check.addresses.join(', ')}`);
  if (check?.warning) {
    lines.push(`  WARNING ${check.warning.code}: ${check.warning.message}`);
    lines.push(`  fix: ${check.warning.fix}`);
    if (check.warning.cmdlet) lines.push(`  check: ${check.warning.cmdlet}`);
  }
  const du = r.deviceUpdate;
  lines.push(`Device Update: ${du.fqdn} ${du.found ? `-> ${du.addresses.join(', ')} (${du.url})` : `not found: ${du.error?.message}`}`);
  return lines.join('\n') + '\n';
}

export const discoverCommand: Command = {
  name: 'discover',
  summary: 'Find the Registrar, Web Services URL and Device Update service as a phone would (DNS, DHCP)',
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const args = await parseDiscoverArgs(argv);
    const resolver = resolverFor(args.dns);
    let dhcp: DhcpInformResult | null = null;
    let dhcpError: SerializedTetherError | null = null;
    let vlan: VlanProbe | null = null;
    if (args['dhcp-inform']) {
      const target = dhcpInformTarget(args['dhcp-inform'], args['dhcp-server'], args['dhcp-client-port']);
      if (args['dhcp-vlan']) {
        // One after the other: both need port 68 (unless --dhcp-client-port says otherwise).
        try {
          vlan = { answer: await dhcpInform({ ...target, vendorClass: VLAN_VENDOR_CLASS }), error: null };
        } catch (err) {
          vlan = { answer: null, error: toTetherError(err).toJSON() };
        }
      }
      try {
        dhcp = await dhcpInform(target);
      } catch (err) {
        // DNS still tells the helpdesk most of the story; report the DHCP failure beside it.
        dhcpError = toTetherError(err).toJSON();
      }
    }
    const result = await discoverPool({
      domain: args.domain,
      resolver,
      dhcp,
      dhcpError,
      ...(args.connect ? { probe: tcpProbe(resolver) } : {}),
    });
    const warning = result.webServicesCheck?.warning ?? null;
    // A failure is the Registrar error, or with --strict the warning: reported like every command's.
    const failure = result.registrarError ?? (args.strict ? warning : null);
    const vlanJson = vlan === null ? null : { vlanId: vlan.answer?.vlan?.id ?? null, answer: vlan.answer, error: vlan.error };
    if (args.json) {
      const error = failure === null ? null : errorReport(failure);
      io.stdout.write(JSON.stringify({ ok: failure === null, ...result, dhcp, vlan: vlanJson, error }) + '\n');
    } else {
      io.stdout.write(describe(result, dhcp, vlan));
      if (failure !== null) io.stderr.write(errorText(failure));
    }
    return failure === null ? EXIT.ok : exitCodeFor(failure);
  },
};
