// Where the testhosts harness is (../shared/testhosts beside the project checkout): a
// clone elsewhere finds it through TSINFRA_TESTHOSTS or the project's standard location.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function testhostsDir(): string {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json')) && root !== '/') root = dirname(root);
  const candidates = [process.env['TSINFRA_TESTHOSTS'], join(root, '..', 'shared', 'testhosts'), '/work/shared/testhosts'];
  const found = candidates.find((c) => c !== undefined && existsSync(join(c, 'hosts-up.sh')));
  if (!found) throw new Error('the testhosts harness (../shared/testhosts) is not there; set TSINFRA_TESTHOSTS');
  return found;
}
