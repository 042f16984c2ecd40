// What `tsinfra hosts facts` prints: one block per host for people, and for --json:
//
//   { "format_version": "1.0",
//     "hosts": [
//       { "host": "host.web[0]", "ok": true, "error": null,
//         "facts": { "hostname", "kernel_release", "arch", "cpus", "memory_bytes",
//                    "cgroup": { "version": "v1"|"v2"|"hybrid"|"none", "controllers": [..] },
//                    "lvm": { "present", "volume_groups": [{ "name", "size_bytes", "free_bytes" }] } | null,
//                    "interfaces": [{ "name", "mtu", "addresses": ["10.0.0.5/24", ..] }],
//                    "state_dir_free_bytes", "tools": { "lvm2", "nft", "ip" },
//                    "agent_version", "node_version", "protocol", ...further agent facts } },
//       { "host": "host.db", "ok": false, "error": { "code": "E_...", "message": "..." }, "facts": null } ] }
//
// `lvm` is null when the agent is too old to report it; `lvm.error` (present only then)
// says why vgs failed.
import type { Facts } from '../../agent/rpc/protocol.js';
import type { HostFactsRow } from '../host-facts.js';
import { humanBytes } from './container-view.js';
import { JSON_FORMAT_VERSION } from './json-format.js';
import type { Style } from './style.js';

const LABEL_WIDTH = 14;

/** `label` padded, then the first line; further lines indented under it. */
function field(label: string, lines: readonly string[]): string[] {
  const pad = ' '.repeat(LABEL_WIDTH);
  return lines.map((l, i) => `  ${i === 0 ? label.padEnd(LABEL_WIDTH) : pad}${l}`);
}

function lvmLines(lvm: Facts['lvm']): string[] {
  if (!lvm) return ['unknown (this agent does not report it)'];
  if (!lvm.present) return ['not installed: storage resources need lvm2 (install it, or set install_packages = true in the host block)'];
  if (lvm.error) return [`installed; vgs failed: ${lvm.error}`];
  if (lvm.volume_groups.length === 0) return ['installed, no volume groups'];
  const width = Math.max(...lvm.volume_groups.map((v) => v.name.length));
  return lvm.volume_groups.map((v) => `${v.name.padEnd(width)}  ${humanBytes(v.free_bytes)} free of ${humanBytes(v.size_bytes)}`);
}

function interfaceLines(interfaces: Facts['interfaces']): string[] {
  if (interfaces.length === 0) return ['none'];
  const name = Math.max(...interfaces.map((i) => i.name.length));
  const mtus = interfaces.map((i) => (i.mtu === null ? '' : `mtu ${i.mtu}`));
  const mtu = Math.max(...mtus.map((m) => m.length));
  return interfaces.map((i, n) => `${i.name.padEnd(name)}  ${mtus[n]!.padEnd(mtu)}  ${i.addresses.length ? i.addresses.join(', ') : 'no addresses'}`.trimEnd());
}

function versions(row: HostFactsRow): { agent: string; node: string; protocol: number | null } {
  return {
    agent: row.facts?.agent_version ?? row.hello?.agentVersion ?? 'unknown',
    node: row.facts?.node_version ?? row.hello?.nodeVersion ?? 'unknown',
    protocol: row.hello?.protocol ?? null,
  };
}

function hostBlock(row: HostFactsRow, style: Style): string[] {
  const head = style.bold(row.host);
  if (!row.facts) {
    const e = row.error ?? { code: 'E_UNKNOWN', message: 'no answer' };
    // The first line only: the whole message follows on stderr, as the command's error.
    return [head, ...field('error', [style.red(`${e.code}: ${e.message.split('\n')[0]}`)])];
  }
  const f = row.facts;
  const v = versions(row);
  return [
    head,
    ...field('hostname', [f.hostname]),
    ...field('kernel', [f.kernel_release]),
    ...field('architecture', [`${f.arch}, ${f.cpus} CPU${f.cpus === 1 ? '' : 's'}, ${humanBytes(f.memory_bytes)} memory`]),
    ...field('cgroup', [`${f.cgroup.version}${f.cgroup.controllers.length ? `: ${f.cgroup.controllers.join(', ')}` : ''}`]),
    ...field('lvm', lvmLines(f.lvm)),
    ...field('state dir', [f.state_dir_free_bytes === null ? 'free space unknown' : `${humanBytes(f.state_dir_free_bytes)} free`]),
    ...field('interfaces', interfaceLines(f.interfaces)),
    ...field('agent', [`${v.agent}${v.protocol === null ? '' : ` (protocol ${v.protocol})`}`]),
    ...field('node', [v.node]),
  ];
}

export function renderFacts(rows: readonly HostFactsRow[], style: Style): string {
  if (rows.length === 0) return 'The configuration declares no hosts.';
  const failed = rows.filter((r) => !r.facts).length;
  const total = `${rows.length} host${rows.length === 1 ? '' : 's'}`;
  const summary = failed ? style.red(`${total}: ${rows.length - failed} answered, ${failed} failed.`) : `${total} answered.`;
  return [...rows.flatMap((r) => [...hostBlock(r, style), '']), summary].join('\n');
}

export function factsJson(rows: readonly HostFactsRow[]): unknown {
  return {
    format_version: JSON_FORMAT_VERSION,
    hosts: rows.map((row) => {
      if (!row.facts) return { host: row.host, ok: false, error: row.error ?? { code: 'E_UNKNOWN', message: 'no answer' }, facts: null };
      const v = versions(row);
      return {
        host: row.host,
        ok: true,
        error: null,
        facts: { ...row.facts, lvm: row.facts.lvm ?? null, agent_version: v.agent, node_version: v.node, protocol: v.protocol },
      };
    }),
  };
}
