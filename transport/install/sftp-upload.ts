// Uploads over one SFTP session of an SSH connection, counting what it sends.
import { stat } from 'node:fs/promises';
import type { Client, SFTPWrapper } from 'ssh2';
import { AgentError } from '../types.js';

/** SFTP status codes (draft-ietf-secsh-filexfer-02) that ssh2 puts in `code`. */
const SFTP_FAILURE = 4;
const SFTP_PERMISSION_DENIED = 3;

export class SftpUpload {
  /** What was written so far: tests and logs check an up-to-date host costs nothing. */
  filesUploaded = 0;
  bytesUploaded = 0;

  private constructor(
    private readonly sftp: SFTPWrapper,
    private readonly host: string,
  ) {}

  static open(client: Client, host: string): Promise<SftpUpload> {
    return new Promise((resolve, reject) => {
      client.sftp((err, sftp) => {
        if (err) reject(new AgentError('E_AGENT_INSTALL', `${host}: cannot open an SFTP session to upload the agent: ${err.message}`, host));
        else resolve(new SftpUpload(sftp, host));
      });
    });
  }

  /** mkdir with `mode`; with `existing: 'ok'` a directory already there is fine (its mode is left alone). */
  async mkdir(path: string, mode: number, existing: 'ok' | 'fail'): Promise<void> {
    const err = await new Promise<(Error & { code?: unknown }) | undefined>((resolve) => this.sftp.mkdir(path, { mode }, (e) => resolve(e ?? undefined)));
    if (!err) return;
    // SFTP v3 has no "exists" status: servers answer FAILURE; stat tells whether it is a directory.
    if (existing === 'ok' && err.code === SFTP_FAILURE && (await this.isDirectory(path))) return;
    throw this.failure(`cannot create the directory ${path}`, err);
  }

  /** Uploads `local` to `remote` (a new name in a directory of ours) and sets its mode. */
  async put(local: string, remote: string, mode: number): Promise<void> {
    const { size } = await stat(local);
    await new Promise<void>((resolve, reject) =>
      this.sftp.fastPut(local, remote, { mode }, (e) => (e ? reject(this.failure(`cannot upload ${remote}`, e as Error & { code?: unknown })) : resolve())),
    );
    this.filesUploaded++;
    this.bytesUploaded += size;
  }

  /** Writes `data` to `remote` (a new name in a directory of ours) with `mode`. */
  async putData(remote: string, data: string | Buffer, mode: number): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.sftp.writeFile(remote, data, { mode, flag: 'wx' }, (e) =>
        e ? reject(this.failure(`cannot upload ${remote}`, e as Error & { code?: unknown })) : resolve(),
      ),
    );
    this.filesUploaded++;
    this.bytesUploaded += Buffer.byteLength(data);
  }

  end(): void {
    this.sftp.end();
  }

  private isDirectory(path: string): Promise<boolean> {
    return new Promise((resolve) => this.sftp.stat(path, (e, attrs) => resolve(!e && attrs.isDirectory())));
  }

  private failure(what: string, err: Error & { code?: unknown }): AgentError {
    const hint = err.code === SFTP_PERMISSION_DENIED ? ' (permission denied: connect as root, or set sudo = true)' : '';
    return new AgentError('E_AGENT_INSTALL', `${this.host}: ${what}: ${err.message}${hint}`, this.host);
  }
}
