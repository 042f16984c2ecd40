// Real sshd test hosts (../shared/testhosts) for the SSH transport tests: brought up in a
// `before` hook and down in `after`. PREFIX, NET and DIR are this suite's own, so other
// suites can run their hosts at the same time.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testhostsDir } from '../../testhosts-dir.js';

const run = promisify(execFile);

export interface TestHost {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly privateKeyPath: string;
  /** `ssh-ed25519 AAAA...` */
  readonly hostKey: string;
  readonly netns: string;
  readonly hostDir: string;
}

export interface TestHosts {
  readonly dir: string;
  readonly net: string;
  readonly hosts: readonly TestHost[];
  /** DIR/known_hosts: the real host keys. */
  readonly knownHosts: string;
  /** DIR/id_ed25519: authorized on every host. */
  readonly key: string;
  down(): Promise<void>;
}

export interface TestHostsOptions {
  readonly prefix: string;
  readonly net: string;
  readonly dir: string;
}

/** The harness scripts, beside the repository (`../shared/testhosts` from its root). */
function harness(script: string): string {
  return join(testhostsDir(), script);
}

export async function testHostsUp(n: number, o: TestHostsOptions): Promise<TestHosts> {
  const env = { ...process.env, PREFIX: o.prefix, NET: o.net };
  const down = async () => {
    await run(harness('hosts-down.sh'), [o.dir], { env }).catch((e: { stderr?: string }) => {
      process.stderr.write(`hosts-down failed: ${e.stderr ?? String(e)}\n`);
    });
  };
  try {
    await run(harness('hosts-up.sh'), [String(n), o.dir], { env, maxBuffer: 16 << 20 });
  } catch (e) {
    await down();
    throw new Error(`hosts-up.sh ${n} ${o.dir} failed: ${(e as { stderr?: string }).stderr ?? String(e)}`, { cause: e });
  }
  const hosts = JSON.parse(await readFile(join(o.dir, 'hosts.json'), 'utf8')) as TestHost[];
  return { dir: o.dir, net: o.net, hosts, knownHosts: join(o.dir, 'known_hosts'), key: join(o.dir, 'id_ed25519'), down };
}
