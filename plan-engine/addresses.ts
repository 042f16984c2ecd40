// Addresses are immutable values in layers: a resource (`network.front`), one of its
// instances (`network.front[2]`, `container.web["a"]`), a host (`host.web`), an output.
// Each has its HCL string form, equality, and a `key` that is unique for use in Maps.
// Raw address strings are parsed once at the edges (CLI flags, state files).

export type InstanceKey = number | string | undefined;

export function instanceKeyString(key: InstanceKey): string {
  if (key === undefined) return '';
  if (typeof key === 'number') return `[${key}]`;
  return `[${JSON.stringify(key)}]`;
}

/** `TYPE.NAME`: a resource block, before count/for_each expansion. */
export class ResourceAddr {
  readonly key: string;
  constructor(
    readonly type: string,
    readonly name: string,
  ) {
    this.key = `${type}.${name}`;
    Object.freeze(this);
  }
  toString(): string {
    return this.key;
  }
  equals(o: ResourceAddr): boolean {
    return this.key === o.key;
  }
  instance(k: InstanceKey): ResourceInstanceAddr {
    return new ResourceInstanceAddr(this, k);
  }
}

/** `TYPE.NAME`, `TYPE.NAME[0]`, `TYPE.NAME["k"]`: one instance of a resource. */
export class ResourceInstanceAddr {
  readonly key: string;
  constructor(
    readonly resource: ResourceAddr,
    readonly instanceKey: InstanceKey,
  ) {
    this.key = resource.key + instanceKeyString(instanceKey);
    Object.freeze(this);
  }
  get type(): string {
    return this.resource.type;
  }
  get name(): string {
    return this.resource.name;
  }
  toString(): string {
    return this.key;
  }
  equals(o: ResourceInstanceAddr): boolean {
    return this.key === o.key;
  }
}

/** `host.NAME` or `host.NAME[k]`. */
export class HostAddr {
  readonly key: string;
  constructor(
    readonly name: string,
    readonly instanceKey: InstanceKey = undefined,
  ) {
    this.key = `host.${name}${instanceKeyString(instanceKey)}`;
    Object.freeze(this);
  }
  toString(): string {
    return this.key;
  }
  equals(o: HostAddr): boolean {
    return this.key === o.key;
  }
}

export class OutputAddr {
  readonly key: string;
  constructor(readonly name: string) {
    this.key = `output.${name}`;
    Object.freeze(this);
  }
  toString(): string {
    return this.key;
  }
}

export class VariableAddr {
  readonly key: string;
  constructor(readonly name: string) {
    this.key = `var.${name}`;
    Object.freeze(this);
  }
  toString(): string {
    return this.key;
  }
}

export class LocalAddr {
  readonly key: string;
  constructor(readonly name: string) {
    this.key = `local.${name}`;
    Object.freeze(this);
  }
  toString(): string {
    return this.key;
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function isValidName(s: string): boolean {
  return NAME.test(s);
}

/**
 * Parses `TYPE.NAME`, `TYPE.NAME[0]`, `TYPE.NAME["key"]` (as typed on a command line
 * or stored in state). Returns undefined for anything else.
 */
export function parseResourceInstanceAddr(s: string): ResourceInstanceAddr | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_-]*)(?:\[(\d+|"(?:[^"\\]|\\.)*")\])?$/.exec(s.trim());
  if (!m) return undefined;
  const [, type, name, idx] = m;
  let key: InstanceKey;
  if (idx !== undefined) key = idx.startsWith('"') ? (JSON.parse(idx) as string) : Number(idx);
  return new ResourceAddr(type!, name!).instance(key);
}

/** Parses `TYPE.NAME` (no instance key). */
export function parseResourceAddr(s: string): ResourceAddr | undefined {
  const a = parseResourceInstanceAddr(s);
  if (!a || a.instanceKey !== undefined) return undefined;
  return a.resource;
}

/** Sorts instance addresses the way users read them: by type, name, then numeric/string key. */
export function compareInstanceAddrs(a: ResourceInstanceAddr, b: ResourceInstanceAddr): number {
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  const ka = a.instanceKey;
  const kb = b.instanceKey;
  if (ka === kb) return 0;
  if (ka === undefined) return -1;
  if (kb === undefined) return 1;
  if (typeof ka === 'number' && typeof kb === 'number') return ka - kb;
  return String(ka) < String(kb) ? -1 : 1;
}
