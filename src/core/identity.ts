/** Who and when a commit records: the default author identity and git timestamps. */
import { hostname, userInfo } from 'node:os';
import type { Identity } from './progress.js';

/** The identity recorded on commits: DBSNAP_AUTHOR_NAME/EMAIL, else the OS user at this host. */
export function defaultIdentity(env: NodeJS.ProcessEnv = process.env): Identity {
  let user = 'dbsnap';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (containers): keep the default.
  }
  return {
    name: env.DBSNAP_AUTHOR_NAME || user,
    email: env.DBSNAP_AUTHOR_EMAIL || `${user}@${hostname() || 'localhost'}`,
  };
}

/** Seconds since the epoch and the local offset git records with them. */
export function gitTime(now: Date): { timestamp: number; timezoneOffset: number } {
  return { timestamp: Math.floor(now.getTime() / 1000), timezoneOffset: now.getTimezoneOffset() };
}
