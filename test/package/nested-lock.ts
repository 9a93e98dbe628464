/**
 * A package-lock.json for an empty project that depends on the packed dbsnap tarball, laid out
 * the way `npm install --install-strategy=nested` lays it out: every package's dependencies in
 * its own node_modules, nothing hoisted. Versions, URLs and integrity come from dbsnap's own
 * lock, so `npm ci --offline` installs it from the npm cache that `npm ci` on this repository
 * filled: no registry metadata is needed (an offline `npm install` would need the packuments,
 * which `npm ci` never caches).
 *
 * Nesting is the point: a runtime import that dbsnap does not declare (but a dependency does)
 * resolves in a hoisted install and fails in a nested one.
 */
interface LockPackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  license?: string;
  dev?: boolean;
  optional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
}

interface Lockfile {
  name: string;
  lockfileVersion: number;
  packages: Record<string, LockPackage>;
}

/** Where Node would find `name` when required from the package installed at `from` (a lock path). */
function locate(lock: Lockfile, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut === -1 ? '' : dir.slice(0, cut);
  }
}

/**
 * @param source dbsnap's package-lock.json
 * @param tarball the tarball's path relative to the new project (`../dbsnap-0.1.0.tgz`)
 */
export function nestedLockFor(source: Lockfile, tarball: string): { packageJson: object; lock: object } {
  const root = source.packages['']! as LockPackage & { name: string; version: string };
  const packages: Record<string, LockPackage> = {};
  const spec = `file:${tarball}`;
  packages[''] = { name: 'dbsnap-install-test', version: '1.0.0', dependencies: { dbsnap: spec } } as LockPackage;
  packages['node_modules/dbsnap'] = {
    version: root.version,
    resolved: spec,
    license: root.license,
    dependencies: root.dependencies,
    bin: root.bin,
    engines: root.engines,
  };
  // Copy each runtime dependency under its dependant, recursively (a cycle stops at its first repeat).
  const place = (sourcePath: string, targetPath: string, deps: Record<string, string>, seen: Set<string>) => {
    for (const name of Object.keys(deps)) {
      const found = locate(source, sourcePath, name);
      if (!found) continue; // an optional dependency not installed for this platform
      if (seen.has(found)) continue;
      const entry = source.packages[found]!;
      const target = `${targetPath}/node_modules/${name}`;
      const { dev: _dev, peer: _peer, ...rest } = entry;
      packages[target] = rest;
      place(found, target, { ...entry.dependencies, ...entry.optionalDependencies }, new Set([...seen, found]));
    }
  };
  place('', 'node_modules/dbsnap', root.dependencies ?? {}, new Set());
  return {
    packageJson: { name: 'dbsnap-install-test', version: '1.0.0', private: true, dependencies: { dbsnap: spec } },
    lock: { name: 'dbsnap-install-test', version: '1.0.0', lockfileVersion: 3, requires: true, packages },
  };
}
