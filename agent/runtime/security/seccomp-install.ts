// Installs a container's seccomp filter on the calling thread (the init's main thread,
// which then execs: the filter is inherited across execve and by every child).
//
// The kernel accepts a filter from a thread that has no_new_privs set or holds
// CAP_SYS_ADMIN. So with `no_new_privileges` the init sets it and installs the filter
// last, after dropping capabilities; without it, the filter must go in while the init
// still has CAP_SYS_ADMIN, before credentials and capabilities change (the default
// profile allows the calls those need).
import { PR, prctl, seccompFilter } from '../libc.js';

/** Sets no_new_privs when asked, then installs `program` (struct sock_filter entries) unless null. */
export function installSeccomp(program: Buffer | null, noNewPrivileges = false): void {
  if (noNewPrivileges) prctl(PR.SET_NO_NEW_PRIVS, 1);
  if (program) seccompFilter(program);
}
