// OpenSSH known_hosts files (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"):
//
//   [@revoked|@cert-authority] patterns keytype base64-key [comment]
//
// patterns: comma-separated host names or addresses with `*`/`?` wildcards and `!`
// negation; a non-default port is written `[host]:port`; a hashed entry
// (`ssh-keygen -H`) is the single pattern `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
// We do not use certificates, so @cert-authority lines are skipped; @revoked lines
// refuse their key.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type KnownHostMarker = 'revoked' | 'cert-authority';

export interface KnownHostEntry {
  /** 1-based line number, for messages. */
  readonly line: number;
  readonly marker?: KnownHostMarker;
  /** The host patterns as written (one hashed pattern, or a comma list). */
  readonly patterns: string;
  /** Key type as written (`ssh-ed25519`). */
  readonly keyType: string;
  /** The key blob (the base64 field decoded). */
  readonly key: Buffer;
}

export interface KnownHostsFile {
  readonly entries: readonly KnownHostEntry[];
  /** Lines that could not be read, with why (shown when nothing matched). */
  readonly skipped: readonly { readonly line: number; readonly reason: string }[];
}

const HASH_MAGIC = '|1|';

export function parseKnownHosts(text: string): KnownHostsFile {
  const entries: KnownHostEntry[] = [];
  const skipped: { line: number; reason: string }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostMarker | undefined;
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m !== '@revoked' && m !== '@cert-authority') {
        skipped.push({ line: i + 1, reason: `unknown marker ${m}` });
        continue;
      }
      marker = m === '@revoked' ? 'revoked' : 'cert-authority';
    }
    const [patterns, keyType, b64] = fields;
    if (patterns === undefined || keyType === undefined || b64 === undefined) {
      skipped.push({ line: i + 1, reason: 'expected: host patterns, key type, key' });
      continue;
    }
    const key = decodeKey(keyType, b64);
    if (typeof key === 'string') {
      skipped.push({ line: i + 1, reason: key });
      continue;
    }
    entries.push({ line: i + 1, ...(marker ? { marker } : {}), patterns, keyType, key });
  }
  return { entries, skipped };
}

/**
 * The name a host is listed under: the host itself on port 22, `[host]:port` otherwise.
 * Names compare in lower case, as OpenSSH does.
 */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** Does this entry's pattern list name `name` (from knownHostsName)? */
export function entryMatches(entry: Pick<KnownHostEntry, 'patterns'>, name: string): boolean {
  if (entry.patterns.startsWith(HASH_MAGIC)) return hashedMatches(entry.patterns, name);
  let positive = false;
  for (const p of entry.patterns.split(',')) {
    if (p === '') continue;
    const negated = p.startsWith('!');
    if (!wildcardMatch(name, (negated ? p.slice(1) : p).toLowerCase())) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}

/** The entries (any marker) that apply to `name`. */
export function entriesFor(file: KnownHostsFile, name: string): KnownHostEntry[] {
  return file.entries.filter((e) => entryMatches(e, name));
}

/** Writes an entry's hashed pattern for `name`, as `ssh-keygen -H` would (tests, tools). */
export function hashName(name: string, salt: Buffer): string {
  return `${HASH_MAGIC}${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

function hashedMatches(pattern: string, name: string): boolean {
  const parts = pattern.slice(HASH_MAGIC.length).split('|');
  if (parts.length !== 2) return false;
  const salt = Buffer.from(parts[0]!, 'base64');
  const want = Buffer.from(parts[1]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** OpenSSH match_pattern: `*` any run of characters, `?` one character. */
function wildcardMatch(s: string, p: string): boolean {
  let si = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      si++;
      pi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star !== -1) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** Decodes the base64 key and checks that the type inside the blob is the one written. */
export function decodeKey(keyType: string, b64: string): Buffer | string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return 'the key is not base64';
  const key = Buffer.from(b64, 'base64');
  const inner = blobKeyType(key);
  if (inner === undefined) return 'the key is malformed';
  if (inner !== keyType) return `the key is of type ${inner}, but the line says ${keyType}`;
  return key;
}

/** The key type string an SSH public key blob starts with. */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || blob.length < 4 + n) return undefined;
  return blob.subarray(4, 4 + n).toString('latin1');
}
