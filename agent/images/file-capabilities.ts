// Reading a file's capabilities (xattr security.capability) for rootfs: sources, so that
// `ping` with cap_net_raw keeps it when a directory becomes an image. Node has no
// getxattr; this one binding lives here rather than in the runtime's libc.ts.
import koffi from 'koffi';

const CAPABILITY_XATTR = 'security.capability';
const ENODATA = 61;
const ENOTSUP = 95;
const MAX_VALUE = 64;

type Lgetxattr = (path: string, name: string, value: Buffer, size: number) => number | bigint;
let lgetxattr: Lgetxattr | undefined;

function binding(): Lgetxattr {
  lgetxattr ??= koffi.load('libc.so.6').func('long lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)') as unknown as Lgetxattr;
  return lgetxattr;
}

/** The raw security.capability value of `path` (not following links), or undefined without one. */
export function readFileCapabilities(path: string): Buffer | undefined {
  const buf = Buffer.alloc(MAX_VALUE);
  const n = Number(binding()(path, CAPABILITY_XATTR, buf, buf.length));
  if (n >= 0) return buf.subarray(0, n);
  const errno = koffi.errno();
  if (errno === ENODATA || errno === ENOTSUP) return undefined;
  throw new Error(`lgetxattr ${CAPABILITY_XATTR} ${path}: errno ${errno}`);
}

export { CAPABILITY_XATTR };
