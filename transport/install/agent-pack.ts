// The agent's files for one host as one upload: the files one after the other, most
// brotli-compressed, with an index the engine sends along in the bootstrap's `install`
// message (host-bootstrap.ts unpacks, checks and writes them). One SFTP file instead of
// one per bundle file spares sshd a file, a handle and its requests per file on every
// fresh host, and the host an extra file per file to unpack and remove.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompress, constants as zlib } from 'node:zlib';
import { BUNDLE_MANIFEST, type AgentBundle, type HostBundle } from './agent-bundle.js';
import { COMPRESSED_DIR, COMPRESSED_SUFFIX } from './bundle-files.js';

export interface PackEntry {
  /** Its name in the version directory (`koffi/linux_x64/koffi.node.br`). */
  readonly name: string;
  /** Of the file as it is to be written on the host. */
  readonly sha256: string;
  /** Where its bytes are in the pack. */
  readonly offset: number;
  readonly length: number;
  /** The bytes are brotli-compressed, to be unpacked before they are written. */
  readonly brotli: boolean;
}

export interface AgentPack {
  readonly data: Buffer;
  readonly entries: readonly PackEntry[];
}

const packs = new Map<string, Promise<AgentPack>>();

/** The pack of `names` (files of `files`), made once per process for every host that needs the same. */
export function agentPack(bundle: AgentBundle, files: HostBundle, names: readonly string[]): Promise<AgentPack> {
  const key = `${bundle.dir}\0${files.files[BUNDLE_MANIFEST]}\0${names.join('\0')}`;
  let pack = packs.get(key);
  if (!pack) {
    pack = makePack(bundle, files, names);
    packs.set(key, pack);
    pack.catch(() => packs.delete(key));
  }
  return pack;
}

async function makePack(bundle: AgentBundle, files: HostBundle, names: readonly string[]): Promise<AgentPack> {
  const parts = await Promise.all(
    names.map(async (name) => {
      const sha256 = files.files[name];
      if (sha256 === undefined) throw new Error(`bug: ${name} is not one of the host's agent files`);
      // The manifest is small and made per host architecture; a .br file ships compressed already.
      if (name === BUNDLE_MANIFEST) return { name, sha256, bytes: Buffer.from(files.manifest), brotli: false };
      if (name.endsWith(COMPRESSED_SUFFIX)) return { name, sha256, bytes: await readFile(join(bundle.dir, name)), brotli: false };
      return { name, sha256, bytes: await compressedFile(bundle.dir, name, sha256), brotli: true };
    }),
  );
  let offset = 0;
  const entries = parts.map(({ name, sha256, bytes, brotli }) => {
    const entry = { name, sha256, offset, length: bytes.length, brotli };
    offset += bytes.length;
    return entry;
  });
  return { data: Buffer.concat(parts.map((p) => p.bytes)), entries };
}

/**
 * A bundle file brotli-compressed: the build's copy (compressed/<sha256>.br, see
 * agent-bundle.ts), else compressed here (a bundle changed by hand, or a test's). The
 * host checks what it unpacked against the manifest, so a wrong copy cannot be installed.
 */
async function compressedFile(dir: string, name: string, sha256: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, COMPRESSED_DIR, sha256 + COMPRESSED_SUFFIX));
  } catch {
    const raw = await readFile(join(dir, name));
    return new Promise<Buffer>((resolve, reject) =>
      brotliCompress(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } }, (e, out) =>
        e ? reject(e) : resolve(out),
      ),
    );
  }
}
