// A small tar writer for tests: archives with exactly the members a case needs,
// including ones real tools refuse to write (`../x`, absolute names, device nodes).
import { BLOCK } from '../../../agent/images/tar-header.js';

export type MemberType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarMember {
  readonly name: string;
  readonly type?: MemberType;
  readonly data?: Buffer | string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: number;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  /** pax records written in an 'x' header before the member. */
  readonly pax?: Readonly<Record<string, string | Buffer>>;
  /** Write a long name as a GNU 'L' member instead of pax. */
  readonly gnuLongName?: boolean;
}

const TYPEFLAG: Record<MemberType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(fields: {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(fields.name, 0, 100, 'utf8');
  b.write(octal(fields.mode, 8), 100, 'latin1');
  const putNumber = (v: number, offset: number, width: number) => {
    if (v < 8 ** (width - 1)) b.write(octal(v, width), offset, 'latin1');
    else {
      // GNU base-256 for values octal cannot hold.
      b[offset] = 0x80;
      let x = BigInt(v);
      for (let i = width - 1; i > 0; i--, x >>= 8n) b[offset + i] = Number(x & 0xffn);
    }
  };
  putNumber(fields.uid, 108, 8);
  putNumber(fields.gid, 116, 8);
  putNumber(fields.size, 124, 12);
  putNumber(fields.mtime, 136, 12);
  b.write(fields.typeflag, 156, 'latin1');
  b.write(fields.linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  b.write(octal(fields.devmajor, 8), 329, 'latin1');
  b.write(octal(fields.devminor, 8), 337, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(octal(sum, 7) + ' ', 148, 'latin1');
  return b;
}

function pad(data: Buffer): Buffer[] {
  const rest = (BLOCK - (data.length % BLOCK)) % BLOCK;
  return rest ? [data, Buffer.alloc(rest)] : [data];
}

function paxBody(records: Readonly<Record<string, string | Buffer>>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(records)) {
    const v = typeof value === 'string' ? Buffer.from(value) : value;
    const rest = Buffer.byteLength(` ${key}=`) + v.length + 1;
    let len = rest + String(rest).length;
    if (String(len).length !== String(rest).length) len = rest + String(len).length;
    parts.push(Buffer.from(`${len} ${key}=`), v, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export function tar(members: readonly TarMember[]): Buffer {
  const out: Buffer[] = [];
  for (const m of members) {
    const type = m.type ?? 'file';
    const data = type === 'file' ? Buffer.from(m.data ?? '') : Buffer.alloc(0);
    const pax: Record<string, string | Buffer> = { ...m.pax };
    let name = m.name;
    if (Buffer.byteLength(name) > 100) {
      if (m.gnuLongName) {
        const body = Buffer.from(`${name}\0`);
        out.push(
          header({ name: '././@LongLink', mode: 0, uid: 0, gid: 0, size: body.length, mtime: 0, typeflag: 'L', linkname: '', devmajor: 0, devminor: 0 }),
          ...pad(body),
        );
      } else pax['path'] = name;
      name = name.slice(0, 100);
    }
    if (Object.keys(pax).length) {
      const body = paxBody(pax);
      out.push(
        header({ name: 'PaxHeader', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: 0, typeflag: 'x', linkname: '', devmajor: 0, devminor: 0 }),
        ...pad(body),
      );
    }
    out.push(
      header({
        name,
        mode: m.mode ?? (type === 'dir' ? 0o755 : 0o644),
        uid: m.uid ?? 0,
        gid: m.gid ?? 0,
        size: data.length,
        mtime: m.mtime ?? 1704067200,
        typeflag: TYPEFLAG[type],
        linkname: m.linkname ?? '',
        devmajor: m.devmajor ?? 0,
        devminor: m.devminor ?? 0,
      }),
      ...pad(data),
    );
  }
  out.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(out);
}
