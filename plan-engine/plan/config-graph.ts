// The dependency graph of a configuration's declarations: variables, locals, hosts,
// resources and outputs, with an edge for every reference and depends_on entry.
// Planning walks it in topological order; apply derives its own graph of changes
// from the resource-to-resource edges.
import type { Attribute, Body, Config } from '../config/model.js';
import { Diagnostics, suggest } from '../diagnostics.js';
import { referencesOf } from '../expressions/index.js';
import { findCycles, Graph } from '../graph/index.js';

export type NodeKind = 'var' | 'local' | 'host' | 'resource' | 'output';

export function nodeKind(key: string): NodeKind {
  const root = key.slice(0, key.indexOf('.'));
  if (root === 'var' || root === 'local' || root === 'host' || root === 'output') return root;
  return 'resource';
}

function* bodyAttributes(body: Body): Generator<Attribute> {
  yield* body.attributes.values();
  for (const b of body.blocks) yield* bodyAttributes(b.body);
}

/** Every attribute of every declaration, with the node it belongs to. */
function* declaredAttributes(config: Config): Generator<[string, Attribute]> {
  for (const v of config.variables.values()) {
    for (const val of v.validations) yield [`var.${v.name}`, val.condition];
  }
  for (const l of config.locals.values()) yield [`local.${l.name}`, l.value];
  for (const h of config.hosts.values()) {
    for (const a of bodyAttributes(h.body)) yield [`host.${h.name}`, a];
    for (const a of [h.count, h.forEach, h.dependsOn]) if (a) yield [`host.${h.name}`, a];
  }
  for (const r of config.resources.values()) {
    for (const a of bodyAttributes(r.body)) yield [r.addr.key, a];
    for (const a of [r.count, r.forEach, r.dependsOn, r.host]) if (a) yield [r.addr.key, a];
  }
  for (const o of config.outputs.values()) {
    yield [`output.${o.name}`, o.value];
    if (o.dependsOn) yield [`output.${o.name}`, o.dependsOn];
  }
}

/** The node a reference points at, or undefined when it names nothing declared. */
function referencedNode(config: Config, parts: readonly (string | number)[]): string | undefined {
  const [root, name] = parts;
  if (typeof root !== 'string' || typeof name !== 'string') return undefined;
  switch (root) {
    case 'var':
      return config.variables.has(name) ? `var.${name}` : undefined;
    case 'local':
      return config.locals.has(name) ? `local.${name}` : undefined;
    case 'host':
      return config.hosts.has(name) ? `host.${name}` : undefined;
    case 'count':
    case 'each':
    case 'self':
      return undefined;
    default:
      return config.resources.has(`${root}.${name}`) ? `${root}.${name}` : undefined;
  }
}

export function buildConfigGraph(config: Config, diags: Diagnostics): Graph<string> {
  const g = new Graph<string>((k) => k);
  for (const n of config.variables.keys()) g.add(`var.${n}`);
  for (const n of config.locals.keys()) g.add(`local.${n}`);
  for (const n of config.hosts.keys()) g.add(`host.${n}`);
  for (const n of config.resources.keys()) g.add(n);
  for (const n of config.outputs.keys()) g.add(`output.${n}`);
  const ranges = new Map<string, Attribute>();
  for (const [node, attr] of declaredAttributes(config)) {
    for (const ref of referencesOf(attr.expr)) {
      const target = referencedNode(config, ref.parts);
      if (target === undefined) continue; // reported with a suggestion when evaluated
      if (target === node && node.startsWith('var.')) continue; // a variable's validation checks the variable itself
      g.connect(node, target);
      if (!ranges.has(node)) ranges.set(node, attr);
    }
  }
  checkDependsOn(config, diags);
  for (const cycle of findCycles(g)) {
    const names = [...cycle, cycle[0]!].join(' -> ');
    const first = ranges.get(cycle[0]!);
    diags.error('E_CYCLE', `Dependency cycle: ${names}`, {
      detail:
        cycle.length === 1
          ? `${cycle[0]!} refers to itself.`
          : `These ${cycle.length} declarations refer to each other, so no order can satisfy them: ${cycle.join(', ')}.`,
      address: cycle[0]!,
      ...(first ? { range: first.range } : {}),
    });
  }
  return g;
}

/** depends_on lists are never evaluated, so their entries are checked here: declared resources or hosts only. */
function checkDependsOn(config: Config, diags: Diagnostics): void {
  const lists: [string, Attribute | undefined][] = [
    ...[...config.resources.values()].map((r): [string, Attribute | undefined] => [r.addr.key, r.dependsOn]),
    ...[...config.hosts.values()].map((h): [string, Attribute | undefined] => [`host.${h.name}`, h.dependsOn]),
    ...[...config.outputs.values()].map((o): [string, Attribute | undefined] => [`output.${o.name}`, o.dependsOn]),
  ];
  const candidates = [...config.resources.keys(), ...[...config.hosts.keys()].map((h) => `host.${h}`)];
  for (const [address, attr] of lists) {
    if (!attr) continue;
    if (!Array.isArray(attr.expr)) {
      diags.error('E_INVALID_DEPENDS_ON', 'depends_on takes a list of resources, such as [network.front]', { range: attr.range, address });
      continue;
    }
    for (const ref of referencesOf(attr.expr)) {
      const node = referencedNode(config, ref.parts);
      if (node !== undefined && (nodeKind(node) === 'resource' || nodeKind(node) === 'host')) continue;
      const s = suggest(ref.text, candidates);
      diags.error('E_UNDECLARED_REFERENCE', `depends_on names ${ref.text}, which is not a declared resource or host`, {
        ...(s ? { detail: `Did you mean ${s}?` } : {}),
        range: attr.range,
        address,
      });
    }
  }
}

/** Resources a node depends on, looking through variables, locals and hosts. */
export function resourceDependencies(g: Graph<string>, node: string, cache = new Map<string, Set<string>>()): Set<string> {
  const out = new Set<string>();
  for (const dep of g.dependencies(node)) {
    if (nodeKind(dep) === 'resource') out.add(dep);
    else {
      let sub = cache.get(dep);
      if (!sub) {
        sub = resourceDependencies(g, dep, cache);
        cache.set(dep, sub);
      }
      for (const s of sub) out.add(s);
    }
  }
  return out;
}
