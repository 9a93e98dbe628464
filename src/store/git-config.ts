/**
 * Remotes in the repository's own git `config`, as the standard `[remote "NAME"]` sections
 * native git reads and writes, so `git remote -v` and `dbsnap remote` agree.
 *
 * Only the few parts of git-config(1) syntax remotes need are parsed: section headers with a
 * quoted subsection, `key = value` lines, quoted values with `\"` and `\\` escapes, `#`/`;`
 * comments. Everything else in the file is kept byte for byte: sections are added by appending
 * and removed by dropping their lines, never by re-serialising the whole file.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, RepositoryLockedError } from '../errors/index.js';
import { FILE_MODE, isErrno } from './files.js';
import { checkRefFormat } from './refs.js';

export interface RemoteConfig {
  name: string;
  url: string;
  /** The fetch refspecs (normally `+refs/heads/*:refs/remotes/NAME/*`). */
  fetch: string[];
}

interface Line {
  text: string;
  /** `remote "origin"` -> { section: 'remote', sub: 'origin' } for header lines. */
  header?: { section: string; sub: string | null };
  entry?: { key: string; value: string };
}

/** Throws InvalidArgumentError unless `name` is usable as a remote name (as `git remote add` would accept it). */
export function assertValidRemoteName(name: string): void {
  const problem = name === '' ? 'is empty' : name.startsWith('-') ? 'starts with "-"' : /["\n\\]/.test(name) ? 'contains a quote, backslash or newline' : checkRefFormat(`refs/remotes/${name}/x`);
  if (problem) throw new InvalidArgumentError(`invalid remote name "${name}": it ${problem}.`, { remote: name });
}

function unquote(raw: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === '"') quoted = !quoted;
    else if (ch === '\\' && i + 1 < raw.length) {
      const next = raw[++i]!;
      out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
    } else if (!quoted && (ch === '#' || ch === ';')) break;
    else out += ch;
  }
  return out.trim();
}

function parse(text: string): Line[] {
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    const t = raw.trim();
    const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]/.exec(t);
    if (header) {
      lines.push({ text: raw, header: { section: header[1]!.toLowerCase(), sub: header[2] === undefined ? null : header[2].replace(/\\(.)/g, '$1') } });
      continue;
    }
    const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(t);
    if (entry && !t.startsWith('#') && !t.startsWith(';')) lines.push({ text: raw, entry: { key: entry[1]!.toLowerCase(), value: unquote(entry[2] ?? 'true') } });
    else lines.push({ text: raw });
  }
  return lines;
}

function quoteValue(value: string): string {
  return /^[^\s"\\#;][^"\\#;\n]*[^\s"\\#;]$|^[^\s"\\#;]$/.test(value) ? value : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export class GitConfig {
  private readonly file: string;
  constructor(gitdir: string) {
    this.file = path.join(gitdir, 'config');
  }

  private async read(): Promise<string> {
    try {
      return await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return '';
      throw err;
    }
  }

  /** Every `[remote "NAME"]` section with a url, in file order. */
  async remotes(): Promise<RemoteConfig[]> {
    const found = new Map<string, RemoteConfig>();
    let current: RemoteConfig | null = null;
    for (const line of parse(await this.read())) {
      if (line.header) {
        if (line.header.section === 'remote' && line.header.sub !== null) {
          const name = line.header.sub;
          current = found.get(name) ?? { name, url: '', fetch: [] };
          found.set(name, current);
        } else current = null;
      } else if (current && line.entry) {
        if (line.entry.key === 'url') current.url = line.entry.value;
        else if (line.entry.key === 'fetch') current.fetch.push(line.entry.value);
      }
    }
    return [...found.values()].filter((r) => r.url !== '');
  }

  /**
   * Appends a `[remote "NAME"]` section with the url and git's default fetch refspec.
   * @throws InvalidArgumentError if a remote of that name exists.
   */
  async addRemote(name: string, url: string): Promise<RemoteConfig> {
    assertValidRemoteName(name);
    const fetch = `+refs/heads/*:refs/remotes/${name}/*`;
    await this.edit((text) => {
      if (parse(text).some((l) => l.header?.section === 'remote' && l.header.sub === name)) {
        throw new InvalidArgumentError(`remote "${name}" already exists; remove it first (dbsnap remote remove ${name}) or choose another name.`, { remote: name });
      }
      const sep = text === '' || text.endsWith('\n') ? '' : '\n';
      return `${text}${sep}[remote "${name}"]\n\turl = ${quoteValue(url)}\n\tfetch = ${fetch}\n`;
    });
    return { name, url, fetch: [fetch] };
  }

  /** Removes every `[remote "NAME"]` section; returns false if there was none. */
  async removeRemote(name: string): Promise<boolean> {
    let removed = false;
    await this.edit((text) => {
      const kept: string[] = [];
      let skipping = false;
      for (const line of parse(text)) {
        if (line.header) skipping = line.header.section === 'remote' && line.header.sub === name;
        if (skipping) removed = true;
        else kept.push(line.text);
      }
      return kept.join('\n');
    });
    return removed;
  }

  /** Rewrites the config under `config.lock`, git's own lock, so native git and dbsnap exclude each other. */
  private async edit(change: (text: string) => string): Promise<void> {
    const lock = `${this.file}.lock`;
    let handle: import('node:fs/promises').FileHandle;
    try {
      handle = await fsp.open(lock, 'wx', FILE_MODE);
    } catch (err) {
      if (isErrno(err, 'EEXIST')) {
        throw new RepositoryLockedError(`the git config is being changed by another process (${lock} exists). If no git or dbsnap process is running, delete that file and retry.`, { lockFile: lock });
      }
      throw err;
    }
    let done = false;
    try {
      const next = change(await this.read());
      await handle.writeFile(next);
      await handle.close();
      await fsp.rename(lock, this.file);
      done = true;
    } finally {
      if (!done) {
        await handle.close().catch(() => undefined);
        await fsp.rm(lock, { force: true });
      }
    }
  }
}
