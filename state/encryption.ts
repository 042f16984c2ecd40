// Encryption of sensitive values in the state file, enabled by TSINFRA_STATE_KEY.
//
// The key is a passphrase of any form, so it is stretched with scrypt and a random
// per-file salt into a 256-bit AES-GCM key. The salt and scrypt parameters sit in the
// file's `encryption` header together with `check`, a known value sealed with the key,
// so a wrong key is reported before any value is used. Each value is sealed alone as
// `{ "$encrypted": base64(iv | tag | ciphertext) }` with a fresh 96-bit IV; the value's
// location (`container.web[0]#env.TOKEN`, `output.db_password`) is the additional
// authenticated data, so ciphertexts cannot be swapped between fields of the file.
//
// Deriving costs ~100 ms, and state is rewritten after every resource, so a StateKey
// keeps derived keys per salt and reuses the salt of the file it last read or wrote.
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { z } from 'zod';

export const ENCRYPTED_MARKER = '$encrypted';

export const encryptionHeaderSchema = z.object({
  cipher: z.literal('aes-256-gcm'),
  kdf: z.literal('scrypt'),
  salt: z.string().min(1),
  n: z.number().int().positive(),
  r: z.number().int().positive(),
  p: z.number().int().positive(),
  check: z.string().min(1),
});
export type EncryptionHeader = z.infer<typeof encryptionHeaderSchema>;

interface KdfParams {
  readonly salt: string;
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

const DEFAULT_KDF = { n: 2 ** 15, r: 8, p: 1 } as const;
/** A file names its own scrypt cost; refuse costs that would exhaust memory (128·N·r bytes). */
const MAX_KDF_MEMORY = 256 * 1024 * 1024;
const CHECK_PLAINTEXT = 'tsinfra-state-key-check';
const CHECK_AAD = 'encryption.check';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The key is wrong, or the ciphertext was altered. */
export class DecryptFailure extends Error {
  constructor(readonly location: string) {
    super(`cannot decrypt ${location}`);
    this.name = 'DecryptFailure';
  }
}

export type EncryptedValue = { [ENCRYPTED_MARKER]: string };

export function isEncryptedValue(v: unknown): v is EncryptedValue {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === ENCRYPTED_MARKER && typeof (v as EncryptedValue)[ENCRYPTED_MARKER] === 'string';
}

function scrypt(passphrase: string, params: KdfParams): Promise<Buffer> {
  const opts: ScryptOptions = { N: params.n, r: params.r, p: params.p, maxmem: 128 * params.n * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scryptCb(passphrase, Buffer.from(params.salt, 'base64'), 32, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Seals and opens values with one derived key. */
export class ValueCipher {
  constructor(
    private readonly key: Buffer,
    readonly params: KdfParams,
  ) {}

  seal(value: unknown, location: string): EncryptedValue {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(location, 'utf8'));
    const body = Buffer.concat([c.update(JSON.stringify(value) ?? 'null', 'utf8'), c.final()]);
    return { [ENCRYPTED_MARKER]: Buffer.concat([iv, c.getAuthTag(), body]).toString('base64') };
  }

  /** Throws DecryptFailure when the key is wrong or the data was altered. */
  open(sealed: EncryptedValue, location: string): unknown {
    const raw = Buffer.from(sealed[ENCRYPTED_MARKER], 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new DecryptFailure(location);
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      d.setAAD(Buffer.from(location, 'utf8'));
      d.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([d.update(raw.subarray(IV_BYTES + TAG_BYTES)), d.final()]).toString('utf8');
      return JSON.parse(text) as unknown;
    } catch {
      throw new DecryptFailure(location);
    }
  }

  header(): EncryptionHeader {
    return {
      cipher: 'aes-256-gcm',
      kdf: 'scrypt',
      ...this.params,
      check: this.seal(CHECK_PLAINTEXT, CHECK_AAD)[ENCRYPTED_MARKER],
    };
  }

  /** Throws DecryptFailure unless the header's check value opens with this key. */
  verify(header: EncryptionHeader): void {
    if (this.open({ [ENCRYPTED_MARKER]: header.check }, CHECK_AAD) !== CHECK_PLAINTEXT) {
      throw new DecryptFailure(CHECK_AAD);
    }
  }
}

/** The state key (TSINFRA_STATE_KEY): derives ciphers per file salt and caches them. */
export class StateKey {
  private readonly ciphers = new Map<string, Promise<ValueCipher>>();
  private writeParams: KdfParams | undefined;

  constructor(private readonly passphrase: string) {
    if (passphrase === '') throw new Error('StateKey: empty passphrase');
  }

  /** The key from the environment, or undefined when TSINFRA_STATE_KEY is unset or empty. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): StateKey | undefined {
    const v = env['TSINFRA_STATE_KEY'];
    return v === undefined || v === '' ? undefined : new StateKey(v);
  }

  /** True when a file's scrypt parameters are within what we are willing to compute. */
  static acceptableParams(h: EncryptionHeader): boolean {
    return (h.n & (h.n - 1)) === 0 && h.n >= 2 && h.p <= 16 && 128 * h.n * h.r <= MAX_KDF_MEMORY;
  }

  /** The cipher for a file being read; later writes keep using its salt. */
  async cipherForRead(header: EncryptionHeader): Promise<ValueCipher> {
    const params: KdfParams = { salt: header.salt, n: header.n, r: header.r, p: header.p };
    const c = await this.derive(params);
    c.verify(header);
    this.writeParams = params;
    return c;
  }

  /** The cipher for writing: the last file's salt, or a new random one. */
  cipherForWrite(): Promise<ValueCipher> {
    this.writeParams ??= { salt: randomBytes(16).toString('base64'), ...DEFAULT_KDF };
    return this.derive(this.writeParams);
  }

  private derive(params: KdfParams): Promise<ValueCipher> {
    const id = `${params.salt}:${params.n}:${params.r}:${params.p}`;
    let c = this.ciphers.get(id);
    if (!c) {
      c = scrypt(this.passphrase, params).then((key) => new ValueCipher(key, params));
      this.ciphers.set(id, c);
      c.catch(() => this.ciphers.delete(id));
    }
    return c;
  }
}
