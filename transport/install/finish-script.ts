// The installer's second round trip, after the SFTP upload: one script (as root, or
// under sudo) that checks what arrived against the bundle's checksums and moves it into
// place, then forgets old versions. Nothing in it stops or signals a process.
//
//   uploaded dir ──(staged: install -m as root into <agent>/<name>.tmp-<r>)──┐
//   <agent>/<version>.tmp-<r> ── sha256sum -c ── mv -T ──> <agent>/<version>     install
//   <agent>/<version>.tmp-<r>/f ── sha256sum -c ── mv -f ──> <agent>/<version>/f  repair (per file)
//   <agent>/node-<v>.tmp-<r>/node ── sha256sum -c, --version ── mv -T ──> <agent>/node-<v>
//
// A rename within one directory is atomic, so a host never has a half-written version
// under its final name. Two installers racing for one version both verify their own
// upload; the loser finds the winner's directory, checks it and discards its own.
//
// Output: one line per outcome (`agent installed|raced|replaced|repaired`, `node
// installed`, `pruned <version>`), or `error <message>` (`nodefail <output>` when the
// uploaded Node.js does not run) and exit status 1.
import { posix } from 'node:path';
import { KEEP_VERSIONS, agentDir, nodeDirName, nodeRecord, versionDir } from './install-paths.js';
import { shellQuote } from './remote-script.js';

export interface FinishPlan {
  readonly stateDir: string;
  readonly version: string;
  /** A random word that names this run's temporary directories. */
  readonly nonce: string;
  /** Set when the uploads are in the SSH user's staging directory (sudo, not root): they are copied into place as root, then it is removed. */
  readonly staging?: string;
  readonly agent?: {
    /** install: a new version directory; repair: some of its files replaced. */
    readonly mode: 'install' | 'repair';
    /** Where the uploaded files are. */
    readonly from: string;
    /** The uploaded files: name -> sha256. */
    readonly uploaded: Readonly<Record<string, string>>;
    /** Every file the version directory must hold: name -> sha256. */
    readonly all: Readonly<Record<string, string>>;
    /** Files in the version directory that do not belong there (repair). */
    readonly extras: readonly string[];
  };
  readonly node?: {
    /** The directory the `node` binary was uploaded to. */
    readonly from: string;
    readonly sha256: string;
    /** `v20.20.2`: what `node --version` must print on the host. */
    readonly version: string;
  };
  /** The Node.js the agent will run with, recorded for the next probe. */
  readonly runtime: { readonly path: string; readonly version: string };
}

const q = shellQuote;

export function finishScript(plan: FinishPlan): string {
  const A = agentDir(plan.stateDir);
  const lines = [
    'umask 077',
    `A=${q(A)}`,
    `V=${q(plan.version)}`,
    'fail() { echo "error $*"; exit 1; }',
    'command -v sha256sum >/dev/null 2>&1 || fail "sha256sum (GNU coreutils or busybox) is not installed"',
    `mkdir -p -m 0700 ${q(plan.stateDir)} "$A" || fail "cannot create $A"`,
    // `sha256sum -c` of a list on stdin, in a directory; prints what differs.
    'check() (cd "$1" 2>/dev/null || { echo "$1 is missing"; exit 0; }; sha256sum -c 2>&1 | grep -v \': OK$\'; exit 0)',
    'verify() { bad=$(check "$1"); [ -z "$bad" ] || { echo "$bad" | head -n 5; return 1; }; }',
    'stamp() { stat -L -c %Y.%s "$1" 2>/dev/null; }',
  ];
  let agentFrom = plan.agent?.from;
  let nodeFrom = plan.node?.from;
  if (plan.staging !== undefined) {
    // As root: copy the user's uploads into root-owned temporary names, then check those.
    if (plan.agent) {
      const to = `${versionDir(plan.stateDir, plan.version)}.tmp-${plan.nonce}`;
      lines.push(`mkdir -m 0700 ${q(to)} || fail "cannot create ${to}"`, ...copyCommands(plan.agent.from, to, Object.keys(plan.agent.uploaded), '0600'));
      agentFrom = to;
    }
    if (plan.node) {
      const to = posix.join(A, `${nodeDirName(plan.node.version)}.tmp-${plan.nonce}`);
      lines.push(`mkdir -m 0700 ${q(to)} || fail "cannot create ${to}"`, ...copyCommands(plan.node.from, to, ['node'], '0700'));
      nodeFrom = to;
    }
    lines.push(`rm -rf -- ${q(plan.staging)}`);
  }
  if (plan.node && nodeFrom) lines.push(...nodeCommands(A, nodeFrom, plan.node));
  if (plan.agent && agentFrom) lines.push(...agentCommands(plan.stateDir, plan.version, agentFrom, plan.agent, plan.nonce));
  const { path, version } = plan.runtime;
  lines.push(
    `P=${q(path)}`,
    `R=${q(nodeRecord(plan.stateDir))}`,
    `printf '%s\\n%s\\n%s\\n' "$P" "$(stamp "$P")" ${q(version)} >"$R.tmp$$" && mv -f "$R.tmp$$" "$R"`,
    ...pruneCommands(),
  );
  return lines.join('\n') + '\n';
}

function copyCommands(from: string, to: string, names: readonly string[], mode: string): string[] {
  const dirs = [...new Set(names.map((n) => posix.dirname(n)).filter((d) => d !== '.'))];
  return [
    ...dirs.map((d) => `mkdir -p -m 0700 ${q(posix.join(to, d))}`),
    ...names.map((n) => `install -m ${n === 'node' ? '0700' : mode} ${q(posix.join(from, n))} ${q(posix.join(to, n))} || fail "cannot copy ${n} into place"`),
  ];
}

function sumList(files: Readonly<Record<string, string>>): string {
  return Object.entries(files)
    .map(([name, sum]) => `${sum}  ${name}`)
    .join('\n');
}

function agentCommands(stateDir: string, version: string, from: string, agent: NonNullable<FinishPlan['agent']>, nonce: string): string[] {
  const V = versionDir(stateDir, version);
  const T = q(from);
  const lines = [
    `T=${T}`,
    `D=${q(V)}`,
    `uploaded() { cat <<'EOF'\n${sumList(agent.uploaded)}\nEOF\n}`,
    `expected() { cat <<'EOF'\n${sumList(agent.all)}\nEOF\n}`,
  ];
  if (Object.keys(agent.uploaded).length > 0) {
    lines.push(
      'uploaded | verify "$T" || { rm -rf -- "$T"; fail "the uploaded agent files differ from the bundle (the transfer was damaged; try again)"; }',
      'find "$T" -type d -exec chmod 0700 {} + && find "$T" -type f -exec chmod 0600 {} +',
    );
  }
  if (agent.mode === 'install') {
    lines.push(
      'if mv -T "$T" "$D" 2>/dev/null; then echo "agent installed"',
      // Another installer was first, or the directory is there without agent.json.
      'elif expected | verify "$D" >/dev/null; then rm -rf -- "$T"; echo "agent raced"',
      `elif mv -T "$D" "$D.old-${nonce}" && mv -T "$T" "$D"; then rm -rf -- "$D.old-${nonce}"; echo "agent replaced"`,
      'else fail "cannot move the agent into $D"; fi',
    );
  } else {
    const names = Object.keys(agent.uploaded);
    const dirs = [...new Set(names.map((n) => posix.dirname(n)).filter((d) => d !== '.'))];
    lines.push(
      ...dirs.map((d) => `mkdir -p -m 0700 "$D"/${q(d)}`),
      // agent.json last: a file replaced before it is checked against the new manifest.
      ...names
        .sort((a, b) => Number(a === 'agent.json') - Number(b === 'agent.json'))
        .map((n) => `mv -f "$T"/${q(n)} "$D"/${q(n)} || fail "cannot replace ${n}"`),
      ...agent.extras.map((n) => `rm -f -- "$D"/${q(n)}`),
      'rm -rf -- "$T"',
      'expected | verify "$D" || fail "the agent in $D still differs from the bundle after the repair"',
      'echo "agent repaired"',
    );
  }
  return lines;
}

function nodeCommands(A: string, from: string, node: NonNullable<FinishPlan['node']>): string[] {
  const final = posix.join(A, nodeDirName(node.version));
  return [
    `NT=${q(from)}`,
    `ND=${q(final)}`,
    `printf '%s  node\\n' ${node.sha256} | verify "$NT" || { rm -rf -- "$NT"; fail "the uploaded Node.js differs from this machine's (the transfer was damaged; try again)"; }`,
    'chmod 0700 "$NT" "$NT/node"',
    `v=$("$NT/node" --version 2>&1) && [ "$v" = ${q(node.version)} ] || { rm -rf -- "$NT"; echo "nodefail $(echo "$v" | head -n 1)"; exit 1; }`,
    // A directory already there (a race, or one that does not run): the one just checked wins.
    'if [ -e "$ND" ]; then mv -T "$ND" "$ND.old-$$" && rm -rf -- "$ND.old-$$"; fi',
    'mv -T "$NT" "$ND" || fail "cannot move Node.js into $ND"',
    'echo "node installed"',
  ];
}

/** Keeps the KEEP_VERSIONS versions used last and any version a running process uses; drops abandoned uploads. */
function pruneCommands(): string[] {
  return [
    'cd "$A" || exit 0',
    "find . -maxdepth 1 \\( -name '*.tmp-*' -o -name '*.old-*' \\) -mmin +60 -exec rm -rf {} + 2>/dev/null",
    'n=1',
    'for d in $(ls -1t); do',
    '  [ "$d" != "$V" ] && [ -f "$d/agent.json" ] || continue',
    '  n=$((n + 1))',
    `  [ "$n" -le ${KEEP_VERSIONS} ] && continue`,
    '  grep -qsF "$A/$d/" /proc/[0-9]*/cmdline && continue',
    '  rm -rf -- "$d" && echo "pruned $d"',
    'done',
    'exit 0',
  ];
}
