// System call numbers of the architectures the seccomp filter supports, by name.
//
// Taken from the kernel's UAPI headers (x86_64: asm/unistd_64.h; aarch64: the generic
// asm-generic/unistd.h with arm64's __ARCH_WANT_* choices), up to removexattrat (466,
// Linux 6.13). Each row lists ten consecutive numbers starting at its first field; '-'
// marks a number the architecture does not use.

export type SeccompArch = 'x86_64' | 'aarch64';

const X86_64_ROWS: readonly (readonly [number, string])[] = [
  [0, 'read write open close stat fstat lstat poll lseek mmap'],
  [10, 'mprotect munmap brk rt_sigaction rt_sigprocmask rt_sigreturn ioctl pread64 pwrite64 readv'],
  [20, 'writev access pipe select sched_yield mremap msync mincore madvise shmget'],
  [30, 'shmat shmctl dup dup2 pause nanosleep getitimer alarm setitimer getpid'],
  [40, 'sendfile socket connect accept sendto recvfrom sendmsg recvmsg shutdown bind'],
  [50, 'listen getsockname getpeername socketpair setsockopt getsockopt clone fork vfork execve'],
  [60, 'exit wait4 kill uname semget semop semctl shmdt msgget msgsnd'],
  [70, 'msgrcv msgctl fcntl flock fsync fdatasync truncate ftruncate getdents getcwd'],
  [80, 'chdir fchdir rename mkdir rmdir creat link unlink symlink readlink'],
  [90, 'chmod fchmod chown fchown lchown umask gettimeofday getrlimit getrusage sysinfo'],
  [100, 'times ptrace getuid syslog getgid setuid setgid geteuid getegid setpgid'],
  [110, 'getppid getpgrp setsid setreuid setregid getgroups setgroups setresuid getresuid setresgid'],
  [120, 'getresgid getpgid setfsuid setfsgid getsid capget capset rt_sigpending rt_sigtimedwait rt_sigqueueinfo'],
  [130, 'rt_sigsuspend sigaltstack utime mknod uselib personality ustat statfs fstatfs sysfs'],
  [
    140,
    'getpriority setpriority sched_setparam sched_getparam sched_setscheduler sched_getscheduler sched_get_priority_max sched_get_priority_min sched_rr_get_interval mlock',
  ],
  [150, 'munlock mlockall munlockall vhangup modify_ldt pivot_root _sysctl prctl arch_prctl adjtimex'],
  [160, 'setrlimit chroot sync acct settimeofday mount umount2 swapon swapoff reboot'],
  [170, 'sethostname setdomainname iopl ioperm create_module init_module delete_module get_kernel_syms query_module quotactl'],
  [180, 'nfsservctl getpmsg putpmsg afs_syscall tuxcall security gettid readahead setxattr lsetxattr'],
  [190, 'fsetxattr getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr fremovexattr'],
  [200, 'tkill time futex sched_setaffinity sched_getaffinity set_thread_area io_setup io_destroy io_getevents io_submit'],
  [210, 'io_cancel get_thread_area lookup_dcookie epoll_create epoll_ctl_old epoll_wait_old remap_file_pages getdents64 set_tid_address restart_syscall'],
  [220, 'semtimedop fadvise64 timer_create timer_settime timer_gettime timer_getoverrun timer_delete clock_settime clock_gettime clock_getres'],
  [230, 'clock_nanosleep exit_group epoll_wait epoll_ctl tgkill utimes vserver mbind set_mempolicy get_mempolicy'],
  [240, 'mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr kexec_load waitid add_key request_key'],
  [250, 'keyctl ioprio_set ioprio_get inotify_init inotify_add_watch inotify_rm_watch migrate_pages openat mkdirat mknodat'],
  [260, 'fchownat futimesat newfstatat unlinkat renameat linkat symlinkat readlinkat fchmodat faccessat'],
  [270, 'pselect6 ppoll unshare set_robust_list get_robust_list splice tee sync_file_range vmsplice move_pages'],
  [280, 'utimensat epoll_pwait signalfd timerfd_create eventfd fallocate timerfd_settime timerfd_gettime accept4 signalfd4'],
  [290, 'eventfd2 epoll_create1 dup3 pipe2 inotify_init1 preadv pwritev rt_tgsigqueueinfo perf_event_open recvmmsg'],
  [300, 'fanotify_init fanotify_mark prlimit64 name_to_handle_at open_by_handle_at clock_adjtime syncfs sendmmsg setns getcpu'],
  [310, 'process_vm_readv process_vm_writev kcmp finit_module sched_setattr sched_getattr renameat2 seccomp getrandom memfd_create'],
  [320, 'kexec_file_load bpf execveat userfaultfd membarrier mlock2 copy_file_range preadv2 pwritev2 pkey_mprotect'],
  [330, 'pkey_alloc pkey_free statx io_pgetevents rseq uretprobe'],
  [420, '- - - - pidfd_send_signal io_uring_setup io_uring_enter io_uring_register open_tree move_mount'],
  [430, 'fsopen fsconfig fsmount fspick pidfd_open clone3 close_range openat2 pidfd_getfd faccessat2'],
  [
    440,
    'process_madvise epoll_pwait2 mount_setattr quotactl_fd landlock_create_ruleset landlock_add_rule landlock_restrict_self memfd_secret process_mrelease futex_waitv',
  ],
  [450, 'set_mempolicy_home_node cachestat fchmodat2 map_shadow_stack futex_wake futex_wait futex_requeue statmount listmount lsm_get_self_attr'],
  [460, 'lsm_set_self_attr lsm_list_modules mseal setxattrat getxattrat listxattrat removexattrat'],
];

const AARCH64_ROWS: readonly (readonly [number, string])[] = [
  [0, 'io_setup io_destroy io_submit io_cancel io_getevents setxattr lsetxattr fsetxattr getxattr lgetxattr'],
  [10, 'fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr fremovexattr getcwd lookup_dcookie eventfd2'],
  [20, 'epoll_create1 epoll_ctl epoll_pwait dup dup3 fcntl inotify_init1 inotify_add_watch inotify_rm_watch ioctl'],
  [30, 'ioprio_set ioprio_get flock mknodat mkdirat unlinkat symlinkat linkat renameat umount2'],
  [40, 'mount pivot_root nfsservctl statfs fstatfs truncate ftruncate fallocate faccessat chdir'],
  [50, 'fchdir chroot fchmod fchmodat fchownat fchown openat close vhangup pipe2'],
  [60, 'quotactl getdents64 lseek read write readv writev pread64 pwrite64 preadv'],
  [70, 'pwritev sendfile pselect6 ppoll signalfd4 vmsplice splice tee readlinkat newfstatat'],
  [80, 'fstat sync fsync fdatasync sync_file_range timerfd_create timerfd_settime timerfd_gettime utimensat acct'],
  [90, 'capget capset personality exit exit_group waitid set_tid_address unshare futex set_robust_list'],
  [100, 'get_robust_list nanosleep getitimer setitimer kexec_load init_module delete_module timer_create timer_gettime timer_getoverrun'],
  [110, 'timer_settime timer_delete clock_settime clock_gettime clock_getres clock_nanosleep syslog ptrace sched_setparam sched_setscheduler'],
  [
    120,
    'sched_getscheduler sched_getparam sched_setaffinity sched_getaffinity sched_yield sched_get_priority_max sched_get_priority_min sched_rr_get_interval restart_syscall kill',
  ],
  [130, 'tkill tgkill sigaltstack rt_sigsuspend rt_sigaction rt_sigprocmask rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_sigreturn'],
  [140, 'setpriority getpriority reboot setregid setgid setreuid setuid setresuid getresuid setresgid'],
  [150, 'getresgid setfsuid setfsgid times setpgid getpgid getsid setsid getgroups setgroups'],
  [160, 'uname sethostname setdomainname getrlimit setrlimit getrusage umask prctl getcpu gettimeofday'],
  [170, 'settimeofday adjtimex getpid getppid getuid geteuid getgid getegid gettid sysinfo'],
  [180, 'mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr msgget msgctl msgrcv msgsnd'],
  [190, 'semget semctl semtimedop semop shmget shmctl shmat shmdt socket socketpair'],
  [200, 'bind listen accept connect getsockname getpeername sendto recvfrom setsockopt getsockopt'],
  [210, 'shutdown sendmsg recvmsg readahead brk munmap mremap add_key request_key keyctl'],
  [220, 'clone execve mmap fadvise64 swapon swapoff mprotect msync mlock munlock'],
  [230, 'mlockall munlockall mincore madvise remap_file_pages mbind get_mempolicy set_mempolicy migrate_pages move_pages'],
  [240, 'rt_tgsigqueueinfo perf_event_open accept4 recvmmsg'],
  [260, 'wait4 prlimit64 fanotify_init fanotify_mark name_to_handle_at open_by_handle_at clock_adjtime syncfs setns sendmmsg'],
  [270, 'process_vm_readv process_vm_writev kcmp finit_module sched_setattr sched_getattr renameat2 seccomp getrandom memfd_create'],
  [280, 'bpf execveat userfaultfd membarrier mlock2 copy_file_range preadv2 pwritev2 pkey_mprotect pkey_alloc'],
  [290, 'pkey_free statx io_pgetevents rseq kexec_file_load'],
  [420, '- - - - pidfd_send_signal io_uring_setup io_uring_enter io_uring_register open_tree move_mount'],
  [430, 'fsopen fsconfig fsmount fspick pidfd_open clone3 close_range openat2 pidfd_getfd faccessat2'],
  [
    440,
    'process_madvise epoll_pwait2 mount_setattr quotactl_fd landlock_create_ruleset landlock_add_rule landlock_restrict_self memfd_secret process_mrelease futex_waitv',
  ],
  [450, 'set_mempolicy_home_node cachestat fchmodat2 map_shadow_stack futex_wake futex_wait futex_requeue statmount listmount lsm_get_self_attr'],
  [460, 'lsm_set_self_attr lsm_list_modules mseal setxattrat getxattrat listxattrat removexattrat'],
];

// Names that exist only on other architectures or ABIs (i386, 32-bit arm, s390, ppc,
// riscv...). A profile may list them (Docker's default profile does); they are skipped
// here, whereas a name no architecture knows is a mistake in the profile.
const OTHER_ARCH_NAMES = `
_llseek _newselect bdflush break chown32 clock_adjtime64 clock_getres_time64 clock_gettime64 clock_nanosleep_time64 clock_settime64 fadvise64_64
fchown32 fcntl64 fstat64 fstatat64 fstatfs64 ftime ftruncate64 futex_time64 getegid32 geteuid32 getgid32 getgroups32 getresgid32 getresuid32 getuid32
gtty idle io_pgetevents_time64 ipc lchown32 lock lstat64 mmap2 mpx mq_timedreceive_time64 mq_timedsend_time64 nice oldfstat oldlstat oldolduname
oldstat olduname ppoll_time64 prof profil pselect6_time64 readdir recvmmsg_time64 rt_sigtimedwait_time64 sched_rr_get_interval_time64
semtimedop_time64 sendfile64 setfsgid32 setfsuid32 setgid32 setgroups32 setregid32 setresgid32 setresuid32 setreuid32 setuid32 sgetmask sigaction
signal sigpending sigprocmask sigreturn sigsuspend socketcall ssetmask stat64 statfs64 stime stty timer_gettime64 timer_settime64 timerfd_gettime64
timerfd_settime64 truncate64 ugetrlimit ulimit umount utimensat_time64 vm86 vm86old waitpid
arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls usr26 usr32 swapcontext switch_endian
subpage_prot spu_run spu_create sys_debug_setcontext multiplexer rtas s390_pci_mmio_read s390_pci_mmio_write
s390_runtime_instr s390_guarded_storage s390_sthyi riscv_flush_icache riscv_hwprobe sysmips cachectl recv send
`;

function table(rows: readonly (readonly [number, string])[]): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  for (const [base, names] of rows) {
    names.split(' ').forEach((name, i) => {
      if (name !== '-') out.set(name, base + i);
    });
  }
  return out;
}

const TABLES: Record<SeccompArch, ReadonlyMap<string, number>> = { x86_64: table(X86_64_ROWS), aarch64: table(AARCH64_ROWS) };

let known: ReadonlySet<string> | undefined;

/** Every syscall name of every architecture we know of (for "unknown syscall" checks and suggestions). */
export function knownSyscallNames(): ReadonlySet<string> {
  known ??= new Set([...TABLES.x86_64.keys(), ...TABLES.aarch64.keys(), ...OTHER_ARCH_NAMES.split(/\s+/).filter(Boolean)]);
  return known;
}

/** The number of `name` on `arch`, undefined when the architecture has no such call. */
export function syscallNumber(arch: SeccompArch, name: string): number | undefined {
  return TABLES[arch].get(name);
}

/** `x64`/`arm64` (Node's os.arch()) or `x86_64`/`aarch64` (uname -m); undefined for others. */
export function seccompArch(name: string): SeccompArch | undefined {
  if (name === 'x64' || name === 'x86_64' || name === 'amd64') return 'x86_64';
  if (name === 'arm64' || name === 'aarch64') return 'aarch64';
  return undefined;
}
