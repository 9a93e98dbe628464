/**
 * The native git binary, used only where dbsnap cannot do without it: SSH remotes (the SSH
 * transport, keys and agents are git's and ssh's business) and the user's credential helper.
 * Everything else works without git installed.
 */
import { spawn } from 'node:child_process';
import { GitNotFoundError } from '../errors/index.js';

export interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `git args...`; resolves with the exit code and output (it does not throw on a non-zero
 * exit). Never prompts: a terminal prompt would hang a script.
 * @throws GitNotFoundError (ENOGIT) if no git binary is on the PATH.
 */
export function runGit(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      env: { ...(opts.env ?? process.env), GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '', LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new GitNotFoundError('this needs the git binary, which is not installed (not found on the PATH).', {}));
      } else reject(err);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Asks the user's git credential helper (`git credential fill`) for the credentials of an
 * HTTPS URL. Returns undefined when git is missing, no helper is configured, or it has none:
 * the caller then reports that credentials are needed.
 */
export async function credentialFill(url: string, gitdir: string): Promise<{ username: string; password: string } | undefined> {
  const u = new URL(url);
  try {
    const helper = await runGit(['--git-dir', gitdir, 'config', '--get-all', 'credential.helper']);
    if (helper.code !== 0 || helper.stdout.trim() === '') return undefined;
    const input = `protocol=${u.protocol.replace(/:$/, '')}\nhost=${u.host}\npath=${u.pathname.replace(/^\//, '')}\n${u.username ? `username=${decodeURIComponent(u.username)}\n` : ''}\n`;
    const r = await runGit(['--git-dir', gitdir, 'credential', 'fill'], { input });
    if (r.code !== 0) return undefined;
    const fields = new Map(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    const password = fields.get('password');
    return password ? { username: fields.get('username') ?? '', password } : undefined;
  } catch (err) {
    if (err instanceof GitNotFoundError) return undefined;
    throw err;
  }
}
