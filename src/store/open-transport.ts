/**
 * Picks the transport for a remote URL (smart HTTP, local path, SSH via native git): the one
 * place that maps a URL kind to its implementation.
 */
import { FileTransport } from './transport-file.js';
import { HttpTransport } from './transport-http.js';
import { SshTransport } from './transport-ssh.js';
import { localRemotePath, redactUrl, remoteKind, type Credentials, type Transport } from './transport.js';

/**
 * The transport for a remote URL: smart HTTP(S), a local path / `file://`, or SSH through
 * native git. `gitdir` is the local repository (for the credential helper's configuration).
 *
 * @example
 * const t = openTransport('https://github.com/org/data.git', { token: process.env.DBSNAP_GIT_TOKEN }, repo.dir);
 * const { refs } = await t.listRefs(true);
 */
export function openTransport(url: string, credentials: Credentials, gitdir: string): Transport {
  const display = redactUrl(url);
  switch (remoteKind(url)) {
    case 'http':
      return new HttpTransport(url, display, credentials, gitdir);
    case 'ssh':
      return new SshTransport(url, display);
    case 'file':
      return new FileTransport(localRemotePath(url), display);
  }
}
