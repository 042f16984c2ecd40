// The agent's own version, reported by `hello` (the protocol version is separate).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const AGENT_VERSION = '0.1.0';

let build: string | undefined;

/**
 * Which agent this process runs: the installed bundle's version (`0.1.0-<hash of its
 * files>`, from the agent.json beside it) or, run from dist/ (local transport, tests),
 * AGENT_VERSION. The engine compares it with its own bundle's, and a supervisor or a
 * resident agent of another build is replaced.
 */
export function agentBuild(env: NodeJS.ProcessEnv = process.env): string {
  if (build !== undefined) return build;
  build = AGENT_VERSION;
  const bundle = env['TSINFRA_AGENT_BUNDLE'];
  if (bundle) {
    try {
      const manifest = JSON.parse(readFileSync(join(dirname(bundle), 'agent.json'), 'utf8')) as { version?: unknown };
      if (typeof manifest.version === 'string') build = manifest.version;
    } catch {
      // A bundle without its manifest (being built): the plain version.
    }
  }
  return build;
}
