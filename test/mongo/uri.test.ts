import { describe, expect, it } from 'vitest';
import { databaseFromUri, describeSource, formatSource, hostNames, redactUri } from '../../src/mongo/uri.js';

describe('connection strings', () => {
  it.each([
    ['mongodb://alice:pw@localhost:27017/shop', 'mongodb://<credentials>@localhost:27017/shop'],
    ['mongodb+srv://u:p%40ss@cluster0.x.mongodb.net/shop?retryWrites=true', 'mongodb+srv://<credentials>@cluster0.x.mongodb.net/shop?retryWrites=true'],
    ['mongodb://h/db?authMechanism=PLAIN&password=hunter2', 'mongodb://h/db?authMechanism=PLAIN&password=<redacted>'],
    ['mongodb://localhost/shop', 'mongodb://localhost/shop'],
  ])('redacts %s', (uri, expected) => {
    expect(redactUri(uri)).toBe(expected);
  });

  it('records hosts and database only', () => {
    const s = describeSource('mongodb://alice:pw@a:1,b:2/shop?replicaSet=rs0', 'shop');
    expect(s).toEqual({ hosts: ['a:1', 'b:2'], scheme: 'mongodb', database: 'shop' });
    expect(formatSource(s)).toBe('mongodb://a:1,b:2/shop');
    expect(formatSource(describeSource('mongodb+srv://u:p@cluster0.x.mongodb.net/', 'shop'))).toBe('mongodb+srv://cluster0.x.mongodb.net/shop');
  });

  it('takes the database from the path', () => {
    expect(databaseFromUri('mongodb://localhost:27017/shop?x=1')).toBe('shop');
    expect(databaseFromUri('mongodb://localhost:27017/')).toBeUndefined();
    expect(hostNames('mongodb://u:p@Prod.Example.com:27017,[::1]:27018/x')).toEqual(['prod.example.com', '::1']);
  });

  it('rejects what is not a connection string without echoing credentials', () => {
    expect(() => databaseFromUri('http://alice:pw@host/db')).toThrow(expect.objectContaining({ code: 'EINVALIDARG' }));
    try {
      databaseFromUri('mongodb://alice:pw@');
    } catch (err) {
      expect((err as Error).message).not.toContain('pw');
    }
  });
});
