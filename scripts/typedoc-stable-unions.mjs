// @ts-check
/**
 * A TypeDoc plugin (typedoc.json) that makes docs/api reproducible: the members of a union the
 * compiler built (a property's `'read' | 'write'`, a parameter's type) come in the compiler's
 * internal type-creation order, which changes when any other file first mentions one of them, so
 * an unrelated change reordered `check: "view" | "count" | ...` in docs/api. Those unions are
 * sorted here (stable, by their text; null and undefined last). A type alias's own union is
 * written from its source and keeps the order its author chose.
 */
import { Converter, ReflectionKind, Type, UnionType } from 'typedoc';

/** @param {import('typedoc').SomeType} t */
const last = (t) => ((t.type === 'literal' && t.value === null) || (t.type === 'intrinsic' && t.name === 'undefined') ? 1 : 0);

/** @param {UnionType} union */
function sortUnion(union) {
  union.types = [...union.types].sort((a, b) => last(a) - last(b) || (a.toString() < b.toString() ? -1 : a.toString() > b.toString() ? 1 : 0));
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const seen = new Set();
    /** @param {unknown} value */
    const walk = (value) => {
      if (!value || typeof value !== 'object' || seen.has(value)) return;
      seen.add(value);
      if (Array.isArray(value)) {
        for (const v of value) walk(v);
        return;
      }
      if (!(value instanceof Type)) return;
      if (value instanceof UnionType && !value.elementSummaries) sortUnion(value);
      for (const v of Object.values(value)) walk(v);
    };
    for (const reflection of Object.values(context.project.reflections)) {
      for (const [key, v] of Object.entries(reflection)) {
        // A type alias's union comes from its source text, in the author's order.
        if (key === 'type' && reflection.kindOf(ReflectionKind.TypeAlias)) continue;
        walk(v);
      }
    }
  });
}
