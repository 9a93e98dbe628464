/** Snapshot diffs: the engine (two sides -> deltas as data) and its renderers (data -> strings). */
export * from './types.js';
export { diffCollection, diffEachCollection, diffSnapshots, diffIndexes, DEFAULT_LIMIT, type SidesOf } from './engine.js';
export { diffValues, diffDocumentFields, ARRAY_LCS_MAX } from './document-diff.js';
export { bsonEquals } from './bson-value.js';
export { describeValue, typeName, valueLiteral } from './describe-value.js';
export { toCanonicalEjson } from './ejson.js';
export { renderJson, JSON_SCHEMA_VERSION } from './render-json.js';
export { renderMarkdown, DEFAULT_MARKDOWN_MAX_CHARS } from './render-markdown.js';
export { renderText, renderStat, plainPainter, type Painter } from './render-text.js';
export { renderHistoryText, renderHistoryMarkdown, renderHistoryJson, renderBlameText, renderBlameMarkdown, renderBlameJson } from './render-history.js';
export { renderNames } from './render-names.js';
