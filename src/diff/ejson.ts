/** BSON values -> canonical Extended JSON data for the JSON diff renderer, keeping Undefined visible. */
import { EJSON } from 'bson';
import { typeName } from './bson-value.js';

/**
 * A BSON value as canonical Extended JSON (plain JSON data). Walks documents and arrays itself
 * because `EJSON.serialize` turns an `undefined` field into `null`, which would make the diff
 * output claim a value that was never there; here it becomes `{"$undefined": true}`.
 */
export function toCanonicalEjson(v: unknown): unknown {
  switch (typeName(v)) {
    case 'Undefined':
      return { $undefined: true };
    case 'Array':
      return (v as unknown[]).map(toCanonicalEjson);
    case 'Document': {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        // defineProperty, not assignment: a field named `__proto__` must stay a field.
        Object.defineProperty(out, k, { value: toCanonicalEjson(x), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      return EJSON.serialize(v, { relaxed: false });
  }
}
