import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useApiServer } from '@/test/api-server';
import { insertSagaRows } from '@/test/saga-rows';

const api = useApiServer({ worker: false });

interface Page {
  items: {
    sagaId: string;
    startedAt: string;
    state: string;
    needsIntervention: boolean;
    patientId: string;
    orderId: string;
  }[];
  nextCursor: string | null;
}

async function allPages(query: string, limit: number): Promise<{ pages: Page[]; ids: string[] }> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: Page } = await api.request(
      `/api/sagas?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    assert.equal(res.status, 200);
    pages.push(res.body);
    cursor = res.body.nextCursor;
  } while (cursor && pages.length < 50);
  return { pages, ids: pages.flatMap((p) => p.items.map((i) => i.sagaId)) };
}

describe('GET /api/sagas', () => {
  let ids: string[] = [];
  const ordered = () => ids.slice().reverse(); // inserted oldest first below

  test('setup: 25 sagas, some sharing a start time (the cursor must break ties by saga id)', async () => {
    const specs = Array.from({ length: 25 }, (_, i) => ({
      state: i % 5 === 0 ? ('COMPLETED' as const) : ('PENDING_SHIPMENT' as const),
      durationSeconds: i % 5 === 0 ? 3 : undefined,
      startedAgo: 1000 - Math.floor(i / 3) * 10, // triples share a timestamp
      needsIntervention: i % 7 === 0 && i % 5 !== 0,
      patientId: i < 4 ? 'PAT-LIST-A' : 'PAT-LIST-B',
    }));
    ids = await insertSagaRows(api.db, specs);
  });

  test('newest first across pages of 10, each saga exactly once', async () => {
    const { pages, ids: seen } = await allPages('', 10);
    assert.equal(pages.length, 3);
    assert.deepEqual(
      pages.map((p) => p.items.length),
      [10, 10, 5],
    );
    assert.equal(pages.at(-1)!.nextCursor, null);
    assert.equal(new Set(seen).size, 25);
    const starts = pages.flatMap((p) => p.items.map((i) => i.startedAt));
    assert.deepEqual(starts, [...starts].sort().reverse());
    // Same start time: saga ids descending, as the index orders them.
    const byStart = new Map<string, string[]>();
    for (const item of pages.flatMap((p) => p.items))
      byStart.set(item.startedAt, [...(byStart.get(item.startedAt) ?? []), item.sagaId]);
    for (const group of byStart.values()) assert.deepEqual(group, [...group].sort().reverse());
    assert.equal(ordered().length, 25);
  });

  test('filters: state, needsIntervention, q by patient, order or saga id', async () => {
    const completed = await allPages('state=COMPLETED', 2);
    assert.equal(completed.ids.length, 5);
    assert.equal(completed.pages.length, 3);
    const flagged = await allPages('needsIntervention=true', 50);
    assert.ok(flagged.ids.length > 0);
    assert.ok(flagged.pages[0]!.items.every((i) => i.needsIntervention));
    const notFlagged = await allPages('needsIntervention=false', 50);
    assert.equal(flagged.ids.length + notFlagged.ids.length, 25);
    const patient = await allPages('q=PAT-LIST-A', 50);
    assert.equal(patient.ids.length, 4);
    const one = await allPages(`q=${ids[7]}`, 50);
    assert.deepEqual(one.ids, [ids[7]]);
    const byOrder = await allPages(`q=ORD-${ids[3]}`, 50);
    assert.deepEqual(byOrder.ids, [ids[3]]);
    const combined = await allPages('state=PENDING_SHIPMENT&q=PAT-LIST-A', 50);
    assert.equal(combined.ids.length, 3);
  });

  test('400 for a bad filter, limit or cursor', async () => {
    for (const query of [
      'state=NOPE',
      'limit=201',
      'limit=0',
      'needsIntervention=maybe',
      'cursor=garbage',
    ]) {
      const res = await api.request(`/api/sagas?${query}`);
      assert.equal(res.status, 400, query);
      assert.ok(Array.isArray(res.body.issues), query);
    }
    assert.equal((await api.request('/api/sagas?limit=200')).status, 200);
  });
});
