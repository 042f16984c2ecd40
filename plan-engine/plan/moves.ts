// moved blocks: re-address objects in state so that a rename is not a destroy/create.
import { ResourceAddr, ResourceInstanceAddr } from '../addresses.js';
import type { Config } from '../config/model.js';
import type { Diagnostics } from '../diagnostics.js';
import type { State } from '../../state/model.js';

/** Applies every moved block to the state (in place). Records nothing when `from` is absent. */
export function applyMoves(config: Config, state: State, diags: Diagnostics): Map<string, string> {
  const movedFrom = new Map<string, string>();
  for (const m of config.moved) {
    if (m.from instanceof ResourceAddr !== m.to instanceof ResourceAddr) {
      diags.error('E_INVALID_MOVED', 'moved.from and moved.to must both be resources or both be instances', { range: m.range });
      continue;
    }
    const fromType = m.from instanceof ResourceAddr ? m.from.type : m.from.type;
    const toType = m.to instanceof ResourceAddr ? m.to.type : m.to.type;
    if (fromType !== toType) {
      diags.error('E_INVALID_MOVED', `Cannot move ${m.from.key} to ${m.to.key}: the resource types differ`, { range: m.range });
      continue;
    }
    for (const r of state.resources) {
      let to: string | undefined;
      if (m.from instanceof ResourceAddr && m.to instanceof ResourceAddr) {
        if (r.type === m.from.type && r.name === m.from.name) to = m.to.instance(r.index).key;
      } else if (m.from instanceof ResourceInstanceAddr && m.to instanceof ResourceInstanceAddr && r.address === m.from.key) {
        to = m.to.key;
      }
      if (to === undefined) continue;
      if (state.resources.some((x) => x.address === to)) {
        diags.error('E_MOVE_CONFLICT', `Cannot move ${r.address} to ${to}: an object is already recorded there`, { range: m.range, address: to });
        continue;
      }
      movedFrom.set(to, r.address);
      const dest = m.to instanceof ResourceAddr ? m.to : m.to.resource;
      r.address = to;
      r.name = dest.name;
      if (m.to instanceof ResourceInstanceAddr) {
        if (m.to.instanceKey === undefined) delete r.index;
        else r.index = m.to.instanceKey;
      }
    }
  }
  return movedFrom;
}
