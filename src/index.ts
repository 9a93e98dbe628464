/** dbsnap's public library API. */
export * from './errors/index.js';
export { compareBsonValues } from './canonical/bson-order.js';
