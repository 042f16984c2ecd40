// What the agent knows about networks that have no link of their own to read back
// (macvlan: pure configuration on top of a parent interface), one JSON file per network:
//
//   <stateDir>/networks/<network id>.json   (dir 0700, file 0600, replaced atomically)
//
// The agent's network resource writes them; the supervisor reads them when it connects a
// container to a network whose id is not a bridge. Each also keeps what must be undone
// later: whether tsinfra turned PROMISC on, whether it created the VLAN sub-interface.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import { describeIssues } from '../rpc/zod-issues.js';
import { replaceFileDurably } from '../system/durable-file.js';
import { checkLinkName } from './link-name.js';
import { networkFileIds } from './network-files.js';

export const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru'] as const;
export type MacvlanMode = (typeof MACVLAN_MODES)[number];

/**
 * A name the kernel accepts for an existing interface that may hold options-looking or
 * script-breaking characters nowhere: letters, digits, `_`, `.`, `-`, not starting with
 * `-` or `.`, at most 15 characters. Parents are the host's own devices (eth0, bond0.10).
 */
const INTERFACE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

export function isInterfaceName(name: string): boolean {
  return INTERFACE_NAME.test(name);
}

const FILE_VERSION = 1;
const macvlanRecord = z.strictObject({
  version: z.literal(FILE_VERSION),
  id: z.string(),
  name: z.string(),
  driver: z.literal('macvlan'),
  parent: z.string().regex(INTERFACE_NAME),
  vlan: z.number().int().min(1).max(4094).nullable(),
  mode: z.enum(MACVLAN_MODES),
  subnet: z.string(),
  gateway: z.string(),
  ip_range: z.string().nullable(),
  mtu: z.number().int().min(68).max(65535).nullable(),
  internal: z.boolean(),
  /** Wanted: the parent in promiscuous mode. */
  promiscuous: z.boolean(),
  /** tsinfra turned PROMISC on (it was off): turn it off again when no network needs it. */
  promisc_set: z.boolean(),
  /** tsinfra created the VLAN sub-interface: delete it with the last network on it. */
  vlan_created: z.boolean(),
});

export type MacvlanRecord = Omit<z.output<typeof macvlanRecord>, 'version'>;
export type NetworkRecord = MacvlanRecord;

export class NetworkRecords {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'networks');
  }

  /** The network's record, or null when there is none. */
  get(id: string): NetworkRecord | null {
    checkLinkName(id);
    const path = this.file(id);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new AgentFailure('E_NETWORK_RECORD', `cannot read the network record ${path} (${(e as Error).message}); repair or delete the file`);
    }
    const parsed = macvlanRecord.safeParse(json);
    if (!parsed.success || parsed.data.id !== id) {
      const why = parsed.success ? `it is the record of ${parsed.data.id}` : describeIssues(parsed.error, 'record');
      throw new AgentFailure('E_NETWORK_RECORD', `cannot read the network record ${path} (${why}); repair or delete the file`);
    }
    const { version: _version, ...record } = parsed.data;
    return record;
  }

  put(record: NetworkRecord): void {
    checkLinkName(record.id);
    const full = macvlanRecord.parse({ version: FILE_VERSION, ...record });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Durably: a restart must not forget a sub-interface it made.
    replaceFileDurably(this.file(record.id), JSON.stringify(full, null, 2) + '\n');
  }

  /** Forgets a network; already forgotten is fine. */
  remove(id: string): void {
    checkLinkName(id);
    rmSync(this.file(id), { force: true });
  }

  /** Every record, by id; one that cannot be read is an error (it may hold what to undo). */
  list(): NetworkRecord[] {
    return networkFileIds(this.dir).flatMap((id) => {
      const record = this.get(id);
      return record ? [record] : [];
    });
  }

  private file(id: string): string {
    return join(this.dir, `${id}.json`);
  }
}
