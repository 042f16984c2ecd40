// The installer's first and, on an up-to-date host, only round trip: one script that
// reports the host's architecture, the SSH user's uid, a Node.js to run the agent with,
// and the checksums of the files in the agent's version directory.
//
// Running `node --version` costs ~40 ms of CPU, so the Node.js found is recorded in
// <state>/agent/node-runtime (path, then `mtime.size` of the binary, then version) and
// reused while that binary is unchanged.
import { NODE_MAJOR, agentDir, nodeRecord } from './install-paths.js';
import { HOST_CACHE_DIR } from './bundle-files.js';
import { shellQuote } from './remote-script.js';

export interface HostProbe {
  /** `uname -m`. */
  readonly machine: string;
  /** The C library, when only one of glibc's and musl's dynamic loaders is there. */
  readonly libc: 'glibc' | 'musl' | undefined;
  /** The SSH user's uid (under sudo: the uid sudo was called by). */
  readonly loginUid: number;
  /** A Node.js 20+ on the host, if any. */
  readonly node: { readonly path: string; readonly version: string } | undefined;
  /** Older Node.js binaries seen (for the error message when there is nothing else). */
  readonly oldNodes: readonly { readonly path: string; readonly version: string }[];
  /** name -> sha256 of every file under <state>/agent/VERSION/, or undefined when its agent.json is missing. */
  readonly installed: Readonly<Record<string, string>> | undefined;
}

export function probeScript(stateDir: string, version: string): string {
  return `umask 077
A=${shellQuote(agentDir(stateDir))}
V=${shellQuote(version)}
R=${shellQuote(nodeRecord(stateDir))}
echo "arch $(uname -m)"
g= m=
for f in /lib*/ld-linux*; do [ -e "$f" ] && g=1; break; done
for f in /lib/ld-musl-*; do [ -e "$f" ] && m=1; break; done
[ -n "$g" ] && [ -z "$m" ] && echo "libc glibc"
[ -n "$m" ] && [ -z "$g" ] && echo "libc musl"
echo "uid \${SUDO_UID:-$(id -u)}"
stamp() { stat -L -c %Y.%s "$1" 2>/dev/null; }
found=
if [ -r "$R" ] && { read -r p; read -r m; read -r v; } <"$R" && [ -x "$p" ] && [ "$(stamp "$p")" = "$m" ]; then
  echo "node $v $p"
  found=1
fi
if [ -z "$found" ]; then
  for p in "$(command -v node 2>/dev/null)" "$A"/node-*/node; do
    [ -n "$p" ] && [ -x "$p" ] || continue
    v=$("$p" --version 2>/dev/null) || continue
    major=\${v#v}
    major=\${major%%.*}
    case $major in '' | *[!0-9]*) continue ;; esac
    if [ "$major" -lt ${NODE_MAJOR} ]; then
      echo "oldnode $v $p"
      continue
    fi
    echo "node $v $p"
    if [ -d "$A" ]; then
      printf '%s\\n%s\\n%s\\n' "$p" "$(stamp "$p")" "$v" >"$R.tmp$$" && mv -f "$R.tmp$$" "$R"
    fi
    break
  done
fi
if [ -f "$A/$V/agent.json" ]; then
  # Used now: pruning keeps the versions used last.
  touch -c "$A/$V"
  # host-cache/ holds V8 code caches the agent makes on the host: not part of the bundle.
  cd "$A/$V" && find . -path ./${HOST_CACHE_DIR} -prune -o -type f -exec sha256sum {} + | sed 's/^/sum /'
fi
`;
}

export function parseProbe(stdout: string): HostProbe | undefined {
  let machine: string | undefined;
  let libc: HostProbe['libc'];
  let loginUid = NaN;
  let node: HostProbe['node'];
  const oldNodes: { path: string; version: string }[] = [];
  let installed: Record<string, string> | undefined;
  for (const line of stdout.split('\n')) {
    const [word, rest] = splitWord(line);
    if (word === 'arch') machine = rest;
    else if (word === 'libc' && (rest === 'glibc' || rest === 'musl')) libc = rest;
    else if (word === 'uid') loginUid = Number(rest);
    else if (word === 'node' || word === 'oldnode') {
      const [version, path] = splitWord(rest);
      if (word === 'node') node ??= { path, version };
      else oldNodes.push({ path, version });
    } else if (word === 'sum') {
      const m = /^([0-9a-f]{64}) [ *]\.\/(.+)$/.exec(rest);
      if (m) (installed ??= {})[m[2]!] = m[1]!;
    }
  }
  if (!machine || !Number.isInteger(loginUid)) return undefined;
  return { machine, loginUid, libc, node, oldNodes, installed };
}

function splitWord(line: string): [string, string] {
  const i = line.indexOf(' ');
  return i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1)];
}
