/** dbsnap's own version, read once from package.json. */
import { readFileSync } from 'node:fs';

/** dbsnap's own version, from package.json (recorded in commit trailers). */
export const DBSNAP_VERSION: string = (() => {
  try {
    const url = new URL('../../package.json', import.meta.url);
    return JSON.parse(readFileSync(url, 'utf8')).version as string;
  } catch {
    return '0.0.0';
  }
})();
