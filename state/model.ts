// The state model: what tsinfra last knew about every object it manages. A state is
// plain JSON-able data so that it can be cloned, compared and written as-is; the file
// format around it (versioning, encryption) lives in statefile.ts.
//
// `serial` counts writes of one `lineage` (a state's identity, fixed when it is first
// created): a saved plan records both and refuses to apply when either moved on.
import { randomUUID } from 'node:crypto';
import { compareInstanceAddrs, parseResourceInstanceAddr, ResourceAddr, ResourceInstanceAddr } from '../plan-engine/addresses.js';
import type { Diagnostic } from '../plan-engine/diagnostics.js';

/** The state file format this build writes. statefile.ts upgrades older formats to it. */
export const STATE_FORMAT_VERSION = 1;

export type ResourceStatus = 'ready' | 'tainted';

export interface ResourceInstanceState {
  /** The instance address in HCL syntax: `network.front`, `network.front[0]`, `container.web["a"]`. */
  address: string;
  type: string;
  name: string;
  /** The count index or for_each key; absent for a single-instance resource. */
  index?: number | string;
  /** The host address the object lives on (`host.local`, `host.web[1]`). */
  host: string;
  attributes: Record<string, unknown>;
  /** Attribute paths holding secrets (`password`, `env.TOKEN`, `mount[0].source`). */
  sensitivePaths: string[];
  /** Instances this one depended on when last applied: orders deletes of instances no longer in config. */
  dependencies: string[];
  status: ResourceStatus;
  createBeforeDestroy?: boolean;
}

export interface OutputState {
  value: unknown;
  sensitive: boolean;
}

export interface State {
  /** File format version (STATE_FORMAT_VERSION). */
  version: number;
  serial: number;
  /** A uuid fixed when the state is created; a state of another lineage is another state. */
  lineage: string;
  /** The tsinfra version that wrote the state. */
  tsinfraVersion: string;
  /** Sorted by address (see upsertResource), so files diff well. */
  resources: ResourceInstanceState[];
  outputs: Record<string, OutputState>;
}

/** A fresh, empty state with a new lineage. */
export function newState(tsinfraVersion: string): State {
  return {
    version: STATE_FORMAT_VERSION,
    serial: 0,
    lineage: randomUUID(),
    tsinfraVersion,
    resources: [],
    outputs: {},
  };
}

export function cloneState(s: State): State {
  return structuredClone(s);
}

type InstanceRef = string | ResourceInstanceAddr;

function refKey(a: InstanceRef): string {
  return typeof a === 'string' ? a : a.key;
}

export function findResource(s: State, address: InstanceRef): ResourceInstanceState | undefined {
  const key = refKey(address);
  return s.resources.find((r) => r.address === key);
}

/** Inserts or replaces (by address) an instance, keeping resources sorted. Mutates `s`. */
export function upsertResource(s: State, r: ResourceInstanceState): void {
  // Binary search: apply inserts one instance at a time into states of 10,000.
  let lo = 0;
  let hi = s.resources.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = compareResourceStates(s.resources[mid]!, r);
    if (c === 0 && s.resources[mid]!.address === r.address) {
      s.resources[mid] = r;
      return;
    }
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  const same = s.resources.findIndex((x) => x.address === r.address);
  if (same >= 0) {
    // Not where sorting puts it (a state from elsewhere): replace in place.
    s.resources[same] = r;
    return;
  }
  s.resources.splice(lo, 0, r);
}

/** Removes an instance; returns it, or undefined when it was not there. Mutates `s`. */
export function removeResource(s: State, address: InstanceRef): ResourceInstanceState | undefined {
  const key = refKey(address);
  const i = s.resources.findIndex((r) => r.address === key);
  if (i < 0) return undefined;
  return s.resources.splice(i, 1)[0];
}

/** Orders instances as users read them (type, name, numeric/string key); unparsable addresses last. */
export function compareResourceStates(a: ResourceInstanceState, b: ResourceInstanceState): number {
  const pa = parseResourceInstanceAddr(a.address);
  const pb = parseResourceInstanceAddr(b.address);
  if (pa && pb) return compareInstanceAddrs(pa, pb);
  if (pa) return -1;
  if (pb) return 1;
  return a.address < b.address ? -1 : a.address > b.address ? 1 : 0;
}

function moveError(code: string, summary: string, detail?: string): Diagnostic {
  return detail === undefined ? { severity: 'error', code, summary } : { severity: 'error', code, summary, detail };
}

function asAddr(a: string | ResourceAddr | ResourceInstanceAddr): ResourceAddr | ResourceInstanceAddr | undefined {
  if (typeof a !== 'string') return a;
  return parseResourceInstanceAddr(a);
}

/**
 * Renames instances in state (`state mv`, `moved` blocks): one instance (`a.x[0]` ->
 * `a.y[1]`), or every instance of a resource (`a.x` -> `a.y`, keys kept) when `from`
 * names a resource that has keyed instances. Dependencies of other instances follow the
 * rename. Mutates `s` only when it returns no diagnostics.
 */
export function moveResource(s: State, from: string | ResourceAddr | ResourceInstanceAddr, to: string | ResourceAddr | ResourceInstanceAddr): Diagnostic[] {
  const fromAddr = asAddr(from);
  const toAddr = asAddr(to);
  if (!fromAddr || !toAddr) {
    const bad = !fromAddr ? String(from) : String(to);
    return [moveError('E_STATE_MOVE_INVALID_ADDRESS', `"${bad}" is not a resource address`, 'Expected TYPE.NAME, TYPE.NAME[0] or TYPE.NAME["key"].')];
  }
  const fromInst = fromAddr instanceof ResourceAddr ? fromAddr.instance(undefined) : fromAddr;
  const toInst = toAddr instanceof ResourceAddr ? toAddr.instance(undefined) : toAddr;
  if (fromInst.type !== toInst.type) {
    return [
      moveError(
        'E_STATE_MOVE_TYPE_MISMATCH',
        `Cannot move ${fromInst.key} to ${toInst.key}: the resource types differ`,
        'An object of one type cannot become an object of another type; remove it and import or create the new one.',
      ),
    ];
  }

  // Which instances move, and where each one goes.
  const renames = new Map<string, ResourceInstanceAddr>();
  if (findResource(s, fromInst)) {
    renames.set(fromInst.key, toInst);
  } else if (fromInst.instanceKey === undefined) {
    for (const r of s.resources) {
      const a = parseResourceInstanceAddr(r.address);
      if (a && a.resource.equals(fromInst.resource) && a.instanceKey !== undefined) {
        if (toInst.instanceKey !== undefined) {
          return [
            moveError(
              'E_STATE_MOVE_INVALID_ADDRESS',
              `Cannot move all instances of ${fromInst.key} to the single instance ${toInst.key}`,
              `Move them to a resource address without a key (for example ${toInst.resource.key}).`,
            ),
          ];
        }
        renames.set(a.key, toInst.resource.instance(a.instanceKey));
      }
    }
  }
  if (renames.size === 0) {
    return [moveError('E_STATE_MOVE_SOURCE_MISSING', `No instance ${fromInst.key} in state`)];
  }
  for (const [oldKey, target] of renames) {
    const clash = findResource(s, target);
    if (clash && !renames.has(target.key)) {
      return [
        moveError(
          'E_STATE_MOVE_TARGET_EXISTS',
          `Cannot move ${oldKey} to ${target.key}: ${target.key} is already in state`,
          `Remove ${target.key} from state first (tsinfra state rm) if it is no longer wanted.`,
        ),
      ];
    }
  }

  const moved = s.resources.map((r) => {
    const target = renames.get(r.address);
    if (!target) return r;
    const next: ResourceInstanceState = { ...r, address: target.key, type: target.type, name: target.name };
    if (target.instanceKey === undefined) delete next.index;
    else next.index = target.instanceKey;
    return next;
  });
  for (const r of moved) r.dependencies = r.dependencies.map((d) => renames.get(d)?.key ?? d);
  s.resources = moved.sort(compareResourceStates);
  return [];
}

/**
 * True when two states hold the same resources and outputs ("did anything change").
 * Serial and the writing tsinfra version are bookkeeping, not content, and are ignored,
 * so rewriting an unchanged state with a newer tsinfra does not bump the serial.
 */
export function statesEqual(a: State, b: State): boolean {
  if (a.version !== b.version || a.lineage !== b.lineage) return false;
  if (a.resources.length !== b.resources.length) return false;
  const byAddr = new Map(b.resources.map((r) => [r.address, r]));
  for (const r of a.resources) {
    const o = byAddr.get(r.address);
    if (!o || !jsonEqual(r, o)) return false;
  }
  return jsonEqual(a.outputs, b.outputs);
}

/** Structural equality of JSON-like data; a property holding undefined counts as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  const ka = Object.keys(oa).filter((k) => oa[k] !== undefined);
  const kb = Object.keys(ob).filter((k) => ob[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(ob, k) && jsonEqual(oa[k], ob[k]));
}
