// The default seccomp profile: Docker's default profile turned around. Docker allows a
// list and refuses the rest; this profile allows everything and refuses (EPERM) the calls
// Docker leaves out, lifting each group when the container holds the capability Docker
// ties it to. A deny list keeps the filter short (a few comparisons per syscall) and
// does not break programs that use a syscall newer than the list.
//
// Where this differs from Docker's current profile, on purpose:
// - ptrace and process_vm_readv/writev stay tied to CAP_SYS_PTRACE (Docker allows them
//   on kernels >= 4.8); name_to_handle_at is tied to CAP_SYS_ADMIN and clock_adjtime to
//   CAP_SYS_TIME, as in Docker's earlier profiles; move_pages and migrate_pages go with
//   the other NUMA calls under CAP_SYS_NICE.
// - 32-bit and x32 system calls are refused outright (see seccomp-bpf.ts), where Docker
//   filters them with the same list.
import { ALLOW, ENOSYS, EPERM, errno, type SeccompProfile, type SeccompRule } from './seccomp-model.js';

/** Refused unless the container has one of `caps` (none: always refused). */
function deny(names: string[], ...caps: string[]): SeccompRule {
  return { names, action: errno(EPERM), args: [], ...(caps.length > 0 ? { excludes: { caps } } : {}) };
}

const AF_VSOCK = 40n;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000n;
/** personality(2) values Docker allows: PER_LINUX, PER_LINUX32, UNAME26 (| PER_LINUX32), and the query 0xffffffff. */
const STANDARD_PERSONAS = [0n, 0x8n, 0x20000n, 0x20008n, 0xffffffffn];

export const defaultSeccompProfile: SeccompProfile = {
  source: 'default',
  defaultAction: ALLOW,
  rules: [
    // Kernel keyring, obsolete and unsafe interfaces: no container needs them.
    deny([
      'add_key',
      'keyctl',
      'request_key',
      'create_module',
      'get_kernel_syms',
      'query_module',
      'nfsservctl',
      'kexec_load',
      'kexec_file_load',
      'swapon',
      'swapoff',
      'sysfs',
      '_sysctl',
      'uselib',
      'userfaultfd',
      'ustat',
      'vm86',
      'vm86old',
      'pivot_root',
      // io_uring bypasses the filter for the operations it submits (Docker denies it too).
      'io_uring_setup',
      'io_uring_enter',
      'io_uring_register',
    ]),
    // Namespaces and mounts, and what else Docker ties to CAP_SYS_ADMIN.
    deny(
      [
        'mount',
        'umount',
        'umount2',
        'unshare',
        'setns',
        'fsopen',
        'fsconfig',
        'fsmount',
        'fspick',
        'open_tree',
        'move_mount',
        'mount_setattr',
        'fanotify_init',
        'lookup_dcookie',
        'name_to_handle_at',
        'quotactl',
        'quotactl_fd',
        'sethostname',
        'setdomainname',
      ],
      'CAP_SYS_ADMIN',
    ),
    // clone without namespace flags is fork and pthread_create; with them it is unshare.
    { names: ['clone'], action: ALLOW, args: [{ index: 0, op: 'masked-eq', mask: CLONE_NAMESPACE_FLAGS, value: 0n }], excludes: { caps: ['CAP_SYS_ADMIN'] } },
    deny(['clone'], 'CAP_SYS_ADMIN'),
    // clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc fall back to clone.
    { names: ['clone3'], action: errno(ENOSYS), args: [], excludes: { caps: ['CAP_SYS_ADMIN'] } },
    deny(['bpf'], 'CAP_SYS_ADMIN', 'CAP_BPF'),
    deny(['perf_event_open'], 'CAP_SYS_ADMIN', 'CAP_PERFMON'),
    deny(['syslog'], 'CAP_SYS_ADMIN', 'CAP_SYSLOG'),
    deny(['reboot'], 'CAP_SYS_BOOT'),
    deny(['chroot'], 'CAP_SYS_CHROOT'),
    deny(['init_module', 'finit_module', 'delete_module'], 'CAP_SYS_MODULE'),
    deny(['acct'], 'CAP_SYS_PACCT'),
    deny(['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd', 'process_madvise'], 'CAP_SYS_PTRACE'),
    deny(['iopl', 'ioperm'], 'CAP_SYS_RAWIO'),
    deny(['settimeofday', 'stime', 'clock_settime', 'clock_settime64', 'clock_adjtime', 'clock_adjtime64'], 'CAP_SYS_TIME'),
    deny(['vhangup'], 'CAP_SYS_TTY_CONFIG'),
    deny(['get_mempolicy', 'set_mempolicy', 'set_mempolicy_home_node', 'mbind', 'move_pages', 'migrate_pages'], 'CAP_SYS_NICE'),
    deny(['open_by_handle_at'], 'CAP_DAC_READ_SEARCH'),
    { names: ['socket'], action: errno(EPERM), args: [{ index: 0, op: 'eq', value: AF_VSOCK }] },
    ...STANDARD_PERSONAS.map((value): SeccompRule => ({ names: ['personality'], action: ALLOW, args: [{ index: 0, op: 'eq', value }] })),
    deny(['personality']),
  ],
};
