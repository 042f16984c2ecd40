// Which resources an output's value comes from (directly or through locals): outputs of
// resources that failed, were skipped or were destroyed by a targeted run change; the
// others keep their values.
import type { Config } from '../config/model.js';
import { referencesOf } from '../expressions/index.js';

export function outputResources(config: Config, outputName: string): Set<string> {
  const out = new Set<string>();
  const seenLocals = new Set<string>();
  const visit = (expr: unknown): void => {
    for (const ref of referencesOf(expr)) {
      const [root, name] = ref.parts;
      if (typeof root !== 'string' || typeof name !== 'string') continue;
      if (root === 'local') {
        const decl = config.locals.get(name);
        if (decl && !seenLocals.has(name)) {
          seenLocals.add(name);
          visit(decl.value.expr);
        }
      } else if (config.resources.has(`${root}.${name}`)) out.add(`${root}.${name}`);
    }
  };
  const decl = config.outputs.get(outputName);
  if (decl) visit(decl.value.expr);
  return out;
}

/** True when the output comes from any of these resources (`TYPE.NAME` keys). */
export function outputUses(config: Config, outputName: string, resources: ReadonlySet<string>): boolean {
  for (const r of outputResources(config, outputName)) if (resources.has(r)) return true;
  return false;
}
