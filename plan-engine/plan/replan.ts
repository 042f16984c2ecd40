// During apply, a change planned with unknown values (an ID another resource gets when
// it is created) is evaluated again once its dependencies are applied, so the agent
// receives only known values. No host is asked anything here: what only the plan could
// resolve (an LV size of "50%VG", from the host's storage inventory) comes from the
// change as planned, which the provider gets as `planned`.
import { Diagnostics } from '../diagnostics.js';
import type { Config } from '../config/model.js';
import { providerFor } from '../../providers/registry.js';
import type { ValueObject } from '../values.js';
import type { EvalContext } from './eval-context.js';
import { evaluateBody, expand } from './evaluate-block.js';
import { hostInstances } from './hosts.js';
import type { Change } from './model.js';

export function replanInstance(config: Config, ctx: EvalContext, change: Change, diags: Diagnostics): ValueObject | undefined {
  const decl = config.resources.get(`${change.type}.${change.name}`);
  const provider = providerFor(change.type);
  if (!decl || !provider) return undefined;
  const local = new Diagnostics();
  const { instances } = expand(decl, ctx.scope(), decl.addr.key, local);
  const inst = instances.find((i) => i.key === change.index);
  if (!inst) return undefined;
  const body = evaluateBody(decl.body, provider.nestedBlocks, ctx.scope(inst.rep), change.address, local);
  diags.append(local.items);
  if (local.hasErrors()) return undefined;
  const prior = change.action === 'update' ? change.before : null;
  const hostSettings = hostInstances(ctx).get(change.host);
  return provider.plan(body.value, prior, {
    address: change.address,
    name: change.name,
    instanceKey: change.index,
    host: change.host,
    ...(hostSettings ? { hostSettings } : {}),
    ...(change.after ? { planned: change.after } : {}),
  });
}
