// execve does not search PATH: find the command the way a shell would, inside the
// container (after pivot_root), using the container's PATH.
import { accessSync, constants, statSync } from 'node:fs';

export function findExecutable(command: string, env: readonly string[]): string {
  if (command.includes('/')) {
    check(command);
    return command;
  }
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
  for (const dir of pathVar.split(':').filter(Boolean)) {
    const candidate = `${dir}/${command}`;
    try {
      check(candidate);
      return candidate;
    } catch {
      // next directory
    }
  }
  throw new Error(`executable file "${command}" not found in the container's $PATH (${pathVar})`);
}

function check(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new Error(`${path}: no such file in the container`);
  }
  if (st.isDirectory()) throw new Error(`${path} is a directory`);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${path} is not executable`);
  }
}
