// What the CLI's real-kernel tests run against: a configuration directory whose hosts
// are this machine inside a throw-away network namespace, with agent directories of its
// own, all removed again by close() (call it from an after hook, so it runs on failure too).
import { agentDirs, createNetns, deleteNetns } from '../agent/throwaway-netns.js';
import { configDir } from './cli-harness.js';

export interface Lab {
  readonly netns: string;
  /** Environment for the CLI: the agent's state and run directories. */
  readonly env: NodeJS.ProcessEnv;
  readonly cfg: Awaited<ReturnType<typeof configDir>>;
  close(): Promise<void>;
}

/** `files` gets the namespace's name, for `host "lab" { transport = "local"  netns = ... }`. */
export async function openLab(files: (netns: string) => Record<string, string>): Promise<Lab> {
  const netns = await createNetns();
  const dirs = await agentDirs().catch(async (e: unknown) => {
    await deleteNetns(netns);
    throw e;
  });
  const cfg = await configDir(files(netns));
  return {
    netns,
    env: dirs.env,
    cfg,
    close: async () => {
      await deleteNetns(netns);
      await cfg.remove();
      await dirs.remove();
    },
  };
}
