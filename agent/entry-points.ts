// Where the agent's other programs are: the container supervisor and the container init.
// Compiled to dist/ they are files of their own next to this module. In the bundle that
// is installed on hosts (transport/install) all three are one file, agent.mjs, told which
// program to be by its first argument; the bundle sets TSINFRA_AGENT_BUNDLE to its path.
import { fileURLToPath } from 'node:url';

export type EntryPoint = 'supervisor' | 'init';

const FILES: Record<EntryPoint, string> = {
  supervisor: './supervisor/supervisor-main.js',
  init: './runtime/init/init-main.js',
};

/** The arguments after `node` that start `entry` (its own arguments follow). */
export function entryArgs(entry: EntryPoint, env: NodeJS.ProcessEnv = process.env): string[] {
  const bundle = env['TSINFRA_AGENT_BUNDLE'];
  if (bundle) return [bundle, entry];
  return [fileURLToPath(new URL(FILES[entry], import.meta.url))];
}

/**
 * Whether a /proc/PID/cmdline (NUL-separated) is that of `entry`, compiled or bundled: a
 * pid file's pid may have been reused. `agent` is the per-session agent (agent/main.js,
 * or agent.mjs with no program argument).
 */
export function isEntryCommandLine(cmdline: string, entry: EntryPoint | 'agent'): boolean {
  const args = cmdline.split('\0');
  if (entry === 'agent') return args.some((a, i) => a.endsWith('/agent/main.js') || (a.endsWith('/agent.mjs') && !args[i + 1]));
  const file = FILES[entry].slice(FILES[entry].lastIndexOf('/') + 1);
  return args.some((a, i) => a.endsWith(`/${file}`) || (a.endsWith('/agent.mjs') && args[i + 1] === entry));
}
