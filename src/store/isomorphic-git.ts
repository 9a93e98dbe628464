/**
 * isomorphic-git, loaded on first use. dbsnap reads and writes objects and packs itself; only
 * version-1 pack indexes, abbreviated ids in them, and fetching over smart HTTP need
 * isomorphic-git, and importing it cost about 100 ms of every command's start-up.
 */
import type { HttpClient } from 'isomorphic-git';

type IsomorphicGit = typeof import('isomorphic-git');

let git: Promise<IsomorphicGit> | undefined;
let http: Promise<HttpClient> | undefined;

/** The isomorphic-git module. */
export function loadGit(): Promise<IsomorphicGit> {
  return (git ??= import('isomorphic-git'));
}

/** isomorphic-git's Node HTTP client. */
export function loadHttpClient(): Promise<HttpClient> {
  return (http ??= import('isomorphic-git/http/node').then((m) => m.default));
}
