import { expect } from 'chai';
import { idTime, isId, newId } from '../../../shared/db/ids.ts';
import { migratedDatabase, type TestDatabase } from './database.ts';

describe('db: ids', () => {
  it('are decimal INT8 strings, strictly increasing within a process, and encode their time', () => {
    const before = Date.now();
    const ids = Array.from({ length: 20_000 }, () => newId());
    const after = Date.now();
    ids.forEach((id) => expect(isId(id), id).to.equal(true));
    for (let i = 1; i < ids.length; i++) expect(BigInt(ids[i]!) > BigInt(ids[i - 1]!), `${ids[i - 1]} < ${ids[i]}`).to.equal(true);
    expect(new Set(ids).size).to.equal(ids.length);
    const t = idTime(ids[0]!).getTime();
    expect(t).to.be.within(before, after);
  });

  const cases = [
    { v: '1', ok: true },
    { v: '9223372036854775807', ok: true },
    { v: '9223372036854775808', ok: false },
    { v: '0', ok: false },
    { v: '012', ok: false },
    { v: '-5', ok: false },
    { v: '1e5', ok: false },
    { v: 12, ok: false },
  ];
  cases.forEach((c) => it(`isId(${JSON.stringify(c.v)}) is ${c.ok}`, () => expect(isId(c.v)).to.equal(c.ok)));

  describe('in the database', function () {
    let db: TestDatabase;
    before(async function () {
      db = await migratedDatabase(this);
    });
    after(async () => db?.close());
    it('round-trip as INT8 and sort numerically like their strings sort by time', async () => {
      const ids = Array.from({ length: 100 }, () => newId());
      await db.pool.query('CREATE TABLE id_test (id INT8 PRIMARY KEY)');
      await db.pool.query('INSERT INTO id_test SELECT unnest($1::INT8[])', [ids]);
      const r = await db.pool.query<{ id: string }>('SELECT id FROM id_test ORDER BY id');
      expect(r.rows.map((x) => x.id)).to.deep.equal(ids);
    });
  });
});
