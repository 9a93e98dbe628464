/**
 * Loaded into the real dbsnap binary with `node --import <this file>`: makes the filesystem
 * under one directory behave like a full disk or a read-only mount, which a test running as
 * root cannot get from chmod (root ignores it) or mount (not permitted in a container).
 *
 *   DBSNAP_FAULT_PATH         absolute directory the fault applies to
 *   DBSNAP_FAULT_ERRNO        ENOSPC (writes fail once the byte budget is spent) or
 *                             EROFS (every create, write, rename, link, mkdir or delete fails)
 *   DBSNAP_FAULT_AFTER_BYTES  ENOSPC only: bytes that may still be written first (default 0)
 *
 * Reads are never affected. Only the Node APIs dbsnap uses are wrapped (promise and sync); after patching,
 * syncBuiltinESMExports() makes `import { writeFile } from 'node:fs/promises'` see them too.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

const root = process.env.DBSNAP_FAULT_PATH ? path.resolve(process.env.DBSNAP_FAULT_PATH) : '';
const errno = process.env.DBSNAP_FAULT_ERRNO ?? '';
let budget = Number(process.env.DBSNAP_FAULT_AFTER_BYTES ?? 0);

if (root && (errno === 'ENOSPC' || errno === 'EROFS')) {
  const inside = (p) => {
    if (typeof p !== 'string' && !(p instanceof URL) && !Buffer.isBuffer(p)) return false;
    const abs = path.resolve(p instanceof URL ? p.pathname : String(p));
    return abs === root || abs.startsWith(root + path.sep);
  };
  const fail = (syscall, p) => {
    const messages = { ENOSPC: 'no space left on device', EROFS: 'read-only file system' };
    const err = new Error(`${errno}: ${messages[errno]}, ${syscall} '${p}'`);
    err.code = errno;
    err.errno = errno === 'ENOSPC' ? -28 : -30;
    err.syscall = syscall;
    err.path = String(p);
    return err;
  };
  const size = (data) => (typeof data === 'string' ? Buffer.byteLength(data) : data?.byteLength ?? 0);
  /** ENOSPC: spend the budget, fail past it. EROFS: always fail. */
  const spend = (syscall, p, bytes) => {
    if (errno === 'EROFS') throw fail(syscall, p);
    if (bytes > budget) {
      budget = 0;
      throw fail(syscall, p);
    }
    budget -= bytes;
  };
  const writeFlags = (flags) => typeof flags === 'string' && /[wa+]/.test(flags);

  const p = fs.promises;
  const wrapAsync = (obj, name, check) => {
    const orig = obj[name];
    obj[name] = async function (...args) {
      check(...args);
      return orig.apply(this, args);
    };
  };
  wrapAsync(p, 'writeFile', (file, data) => inside(file) && spend('open', file, size(data)));
  wrapAsync(p, 'appendFile', (file, data) => inside(file) && spend('open', file, size(data)));
  if (errno === 'EROFS') {
    for (const name of ['mkdir', 'rename', 'link', 'unlink', 'rm', 'rmdir', 'chmod', 'symlink', 'copyFile']) {
      wrapAsync(p, name, (a, b) => {
        if (inside(a) || (typeof b === 'string' && name !== 'mkdir' && name !== 'chmod' && inside(b))) throw fail(name, a);
      });
    }
  }
  // Small objects are written with the synchronous calls (store/files.ts writeFileViaTempSync).
  const wrapSync = (name, check) => {
    const orig = fs[name];
    fs[name] = function (...args) {
      check(...args);
      return orig.apply(this, args);
    };
  };
  wrapSync('writeFileSync', (file, data) => inside(file) && spend('open', file, size(data)));
  if (errno === 'EROFS') {
    for (const name of ['mkdirSync', 'renameSync', 'linkSync', 'unlinkSync', 'rmSync', 'rmdirSync', 'chmodSync', 'symlinkSync', 'copyFileSync']) {
      wrapSync(name, (a, b) => {
        if (inside(a) || (typeof b === 'string' && name !== 'mkdirSync' && name !== 'chmodSync' && inside(b))) throw fail(name.slice(0, -4), a);
      });
    }
  }
  const openOrig = p.open;
  p.open = async function (file, flags, mode) {
    if (inside(file) && errno === 'EROFS' && writeFlags(flags)) throw fail('open', file);
    const handle = await openOrig.call(this, file, flags, mode);
    if (inside(file) && writeFlags(flags)) {
      for (const name of ['write', 'writeFile', 'writev', 'appendFile']) {
        const orig = handle[name].bind(handle);
        handle[name] = async (data, ...rest) => {
          spend('write', file, Array.isArray(data) ? data.reduce((n, d) => n + size(d), 0) : size(data));
          return orig(data, ...rest);
        };
      }
    }
    return handle;
  };

  // Streams (createWriteStream) go through the callback API with a file descriptor.
  const fdPaths = new Map();
  const openCb = fs.open;
  fs.open = function (file, flags, mode, cb) {
    const callback = typeof mode === 'function' ? mode : typeof flags === 'function' ? flags : cb;
    if (inside(file) && errno === 'EROFS' && writeFlags(typeof flags === 'function' ? 'r' : flags)) {
      process.nextTick(callback, fail('open', file));
      return;
    }
    const wrapped = (err, fd) => {
      if (!err && inside(file)) fdPaths.set(fd, String(file));
      callback(err, fd);
    };
    if (typeof mode === 'function') return openCb.call(this, file, flags, wrapped);
    if (typeof flags === 'function') return openCb.call(this, file, wrapped);
    return openCb.call(this, file, flags, mode, wrapped);
  };
  for (const name of ['write', 'writev']) {
    const orig = fs[name];
    fs[name] = function (fd, data, ...rest) {
      const file = fdPaths.get(fd);
      if (file !== undefined) {
        const cb = rest[rest.length - 1];
        try {
          spend('write', file, Array.isArray(data) ? data.reduce((n, d) => n + size(d), 0) : size(data));
        } catch (err) {
          process.nextTick(cb, err);
          return;
        }
      }
      return orig.call(this, fd, data, ...rest);
    };
  }
  syncBuiltinESMExports();
}
