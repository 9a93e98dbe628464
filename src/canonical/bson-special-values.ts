/**
 * BSON values the bson package cannot represent on its own (a DBPointer, a date beyond a JS Date)
 * and the Int64 range: shared by the Extended JSON reader and the BSON serializer.
 */
import { DBRef, type ObjectId } from 'bson';

/**
 * A BSON DBPointer (deprecated type 0x0C). bson has no class of its own for it (it decodes one as a
 * DBRef), so this subclass marks the value for {@link serializeDocument}. `collection` holds the
 * whole namespace as stored. `BSON.serialize` and the driver write it as a DBRef document.
 */
export class DbPointer extends DBRef {
  constructor(namespace: string, oid: ObjectId) {
    super('', oid);
    // DBRef's constructor splits "db.coll"; a DBPointer stores the namespace as one string.
    this.collection = namespace;
    this.db = undefined;
  }
}

/**
 * Epoch milliseconds of a BSON date that a JS Date cannot hold (beyond ±8.64e15 ms, i.e. past year
 * 275760). The reader returns such a date as an invalid Date carrying this property, which
 * {@link serializeDocument} writes back exactly.
 */
export const OUT_OF_RANGE_DATE_MS: unique symbol = Symbol('dbsnap.outOfRangeDateMs');

export const MAX_JS_DATE_MS = 8.64e15;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
