/**
 * npm run docs: regenerate what docs/ derives from the code, checked by test/docs/generated.test.ts:
 *   docs/dbsnap.schema.json   the JSON Schema of dbsnap.json (src/canonical/config-schema.ts)
 *   docs/api/                 the API reference, from the TSDoc of src/index.ts's exports (TypeDoc)
 * Reproducible: typedoc.json's plugin scripts/typedoc-stable-unions.mjs sorts the unions the compiler ordered.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../src/canonical/config-schema.js';

const root = new URL('..', import.meta.url).pathname;
writeFileSync(`${root}docs/dbsnap.schema.json`, JSON.stringify(configJsonSchema(), null, 2) + '\n');
execFileSync(process.execPath, [`${root}node_modules/typedoc/bin/typedoc`, '--options', `${root}typedoc.json`], { cwd: root, stdio: 'inherit' });
console.log('docs: wrote docs/dbsnap.schema.json and docs/api/');
