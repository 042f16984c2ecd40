// Private key files (OpenSSH and PEM, parsed by ssh2), decrypted with the passphrase
// from TSINFRA_SSH_PASSPHRASE or, on a terminal, asked for. Each file is read and
// decrypted once per run, however many hosts use it, and prompts never overlap.
import { readFile } from 'node:fs/promises';
import ssh2, { type ParsedKey } from 'ssh2';
import { AgentError } from '../types.js';
import { terminalPrompt, type PassphrasePrompt } from './passphrase-prompt.js';

export const PASSPHRASE_ENV = 'TSINFRA_SSH_PASSPHRASE';
const PROMPT_ATTEMPTS = 3;

export interface PrivateKeyOptions {
  /** Where TSINFRA_SSH_PASSPHRASE is read from; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** How to ask for a passphrase; default: the terminal when stdin is a TTY. `null`: never ask. */
  readonly prompt?: PassphrasePrompt | null;
}

export class PrivateKeys {
  private readonly cache = new Map<string, Promise<ParsedKey>>();
  private prompting: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PrivateKeyOptions = {}) {}

  /**
   * The key in `path` (absolute), for the host `owner`, which error messages name.
   * `interactive: false` never prompts (keys tried by default rather than named).
   */
  load(path: string, owner: string, { interactive = true }: { readonly interactive?: boolean } = {}): Promise<ParsedKey> {
    const id = `${interactive ? 'i' : 'n'}:${path}`;
    let key = this.cache.get(id);
    if (!key) {
      key = this.read(path, owner, interactive);
      this.cache.set(id, key);
    }
    return key;
  }

  private async read(path: string, owner: string, interactive: boolean): Promise<ParsedKey> {
    const fail = (code: string, why: string) => new AgentError(code, `${owner}: private_key_file ${path} ${why}`, owner);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'does not exist' : err.code === 'EACCES' ? 'is not readable by this user' : `cannot be read: ${err.message}`;
      throw fail('E_SSH_KEY_UNREADABLE', why);
    }
    const plain = parse(data);
    if (!(plain instanceof Error)) return checkPrivate(plain, fail);
    if (!/no passphrase given/i.test(plain.message)) throw fail('E_SSH_KEY_INVALID', `is not a private key ssh2 can read (${plain.message}). ${FORMAT_HINT}`);

    const fromEnv = (this.options.env ?? process.env)[PASSPHRASE_ENV];
    if (fromEnv !== undefined && fromEnv !== '') {
      const key = parse(data, fromEnv);
      if (!(key instanceof Error)) return checkPrivate(key, fail);
      throw fail(
        'E_SSH_KEY_PASSPHRASE',
        `could not be decrypted with the passphrase in ${PASSPHRASE_ENV} (${key.message}); set it to this key's passphrase, or use agent = true`,
      );
    }
    const prompt = !interactive ? undefined : this.options.prompt === undefined ? terminalPrompt() : (this.options.prompt ?? undefined);
    if (!prompt) {
      throw fail(
        'E_SSH_KEY_ENCRYPTED',
        `is encrypted and no passphrase is available: set ${PASSPHRASE_ENV}, run on a terminal to be asked, or load the key into ssh-agent and set agent = true`,
      );
    }
    // One prompt at a time: hosts connect in parallel, but the terminal is one.
    const asked = this.prompting.then(() => this.ask(prompt, data, path, fail));
    this.prompting = asked.catch(() => undefined);
    return asked;
  }

  private async ask(prompt: PassphrasePrompt, data: Buffer, path: string, fail: (code: string, why: string) => AgentError): Promise<ParsedKey> {
    let last = '';
    for (let i = 0; i < PROMPT_ATTEMPTS; i++) {
      let passphrase: string;
      try {
        passphrase = await prompt(`Enter passphrase for key ${path}: `);
      } catch (e) {
        throw fail('E_SSH_KEY_ENCRYPTED', `is encrypted and the passphrase prompt ended: ${(e as Error).message}`);
      }
      const key = parse(data, passphrase);
      if (!(key instanceof Error)) return checkPrivate(key, fail);
      last = key.message;
    }
    throw fail('E_SSH_KEY_PASSPHRASE', `could not be decrypted: wrong passphrase ${PROMPT_ATTEMPTS} times (${last})`);
  }
}

const FORMAT_HINT =
  'Use an OpenSSH private key (ssh-keygen writes these) or a PEM RSA/ECDSA key; convert another format with ssh-keygen -p -f FILE, which rewrites it in OpenSSH format';

function parse(data: Buffer, passphrase?: string): ParsedKey | Error {
  let r: ParsedKey | ParsedKey[] | Error;
  try {
    r = ssh2.utils.parseKey(data, passphrase);
  } catch (e) {
    return e as Error; // a cipher throwing on a wrong passphrase
  }
  return Array.isArray(r) ? (r[0] ?? new Error('the file holds no key')) : r;
}

function checkPrivate(key: ParsedKey, fail: (code: string, why: string) => AgentError): ParsedKey {
  if (!key.isPrivateKey()) throw fail('E_SSH_KEY_INVALID', 'holds a public key; point private_key_file at the private key (the file without .pub)');
  return key;
}
