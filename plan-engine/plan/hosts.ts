// host blocks: expanded and evaluated into host objects. Expressions see a host as an
// object whose `id` is its address (`host.web[0]`), which is how a resource's
// `host = host.web[0]` names the host it lives on.
import type { HostDecl } from '../config/model.js';
import { hostSchema } from '../config/host-schema.js';
import type { Diagnostics } from '../diagnostics.js';
import { HostAddr } from '../addresses.js';
import type { EvalContext, ExpandedObject } from './eval-context.js';
import { evaluateBody, expand } from './evaluate-block.js';
import { checkSchema } from './schema-issues.js';
import type { ValueObject } from '../values.js';

export function evaluateHost(decl: HostDecl, ctx: EvalContext, diags: Diagnostics): void {
  const base = `host.${decl.name}`;
  const { expansion, instances } = expand(decl, ctx.scope(), base, diags);
  const expanded: ExpandedObject = { expansion, instances: new Map(), sensitivePaths: new Map() };
  ctx.hosts.set(decl.name, expanded);
  for (const inst of instances) {
    const address = new HostAddr(decl.name, inst.key).key;
    const body = evaluateBody(decl.body, {}, ctx.scope(inst.rep), address, diags);
    checkSchema(hostSchema, body.value, decl.body, decl.range, address, diags);
    const v = body.value;
    const transport = v['transport'] ?? (v['address'] === undefined ? undefined : 'ssh');
    if (transport === undefined) {
      diags.error('E_MISSING_ATTRIBUTE', `${address} needs an address, or transport = "local"`, { range: decl.range, address });
    }
    if (transport === 'local' && v['address'] !== undefined) {
      diags.error('E_CONFLICT', `${address}: transport "local" takes no address`, { range: decl.body.attributes.get('address')?.range ?? decl.range, address });
    }
    if (transport !== 'local' && v['netns'] !== undefined) {
      diags.error('E_CONFLICT', `${address}: netns applies to the local transport only`, {
        range: decl.body.attributes.get('netns')?.range ?? decl.range,
        address,
      });
    }
    const value: ValueObject = { ...v, id: address, name: decl.name, transport: (transport as string | undefined) ?? null };
    expanded.instances.set(inst.key ?? '', value);
  }
}

/** All evaluated host instances by address. */
export function hostInstances(ctx: EvalContext): Map<string, ValueObject> {
  const out = new Map<string, ValueObject>();
  for (const o of ctx.hosts.values()) for (const v of o.instances.values()) out.set(v['id'] as string, v);
  return out;
}
