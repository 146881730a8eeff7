import { describe, expect, it } from 'vitest';
import { AuditQueue } from '../../agent-sdk/src/engine/index.ts';

describe('AuditQueue', () => {
  it('is FIFO and, when full, drops the oldest and counts it', () => {
    const q = new AuditQueue<number>({ capacity: 3 });
    for (let i = 1; i <= 5; i++) expect(q.push(i)).toBe(true);
    expect(q.size).toBe(3);
    expect(q.dropped()).toEqual({ overflow: 2, overflowEnforce: 0, closed: 0, tooLarge: 0 });
    expect(q.take(2)).toEqual([3, 4]);
    expect(q.take()).toEqual([5]);
    expect(q.take()).toEqual([]);
  });

  it('puts a failed batch back in front, dropping what no longer fits', () => {
    const q = new AuditQueue<number>({ capacity: 4 });
    [1, 2, 3, 4].forEach((i) => q.push(i));
    const batch = q.take(3);
    q.push(5);
    q.push(6);
    q.requeue(batch);
    // Room for one: the newest of the batch goes back, its two older items are dropped.
    expect(q.take()).toEqual([3, 4, 5, 6]);
    expect(q.dropped().overflow).toBe(2);
  });

  it('drops items that are too large, and everything after close, counting each reason', () => {
    const q = new AuditQueue<string>({ capacity: 10, maxItemSize: 5, sizeOf: (s) => String(s).length });
    expect(q.push('small')).toBe(true);
    expect(q.push('much too large')).toBe(false);
    q.close();
    expect(q.push('late')).toBe(false);
    q.requeue(['a', 'b']);
    expect(q.take()).toEqual(['small']);
    expect(q.dropped()).toEqual({ overflow: 0, overflowEnforce: 0, closed: 3, tooLarge: 1 });
  });

  it('stays bounded over many pushes and takes', () => {
    const q = new AuditQueue<number>({ capacity: 100 });
    for (let i = 0; i < 100_000; i++) {
      q.push(i);
      if (i % 7 === 0) q.take(3);
    }
    expect(q.size).toBe(100);
    const items = q.take();
    expect(items).toEqual([...items].sort((a, b) => a - b));
    expect(items.at(-1)).toBe(99_999);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new AuditQueue({ capacity: 0 })).toThrow(RangeError);
  });
});

describe('AuditQueue with priorities', () => {
  const urgent = (s: string) => s.startsWith('!');
  it('drops audit-mode items before any enforce-mode one, and hands enforce-mode ones out first', () => {
    const q = new AuditQueue<string>({ capacity: 3, priority: urgent });
    q.push('a1');
    q.push('!b1');
    q.push('a2');
    expect(q.push('!b2')).toBe(true); // a1 goes
    expect(q.push('!b3')).toBe(true); // a2 goes
    expect(q.push('a3')).toBe(false); // full of enforce-mode items: the audit-mode one is refused
    expect(q.dropped()).toEqual({ overflow: 3, overflowEnforce: 0, closed: 0, tooLarge: 0 });
    expect(q.push('!b4')).toBe(true); // only now does an enforce-mode item go: the oldest
    expect(q.dropped().overflowEnforce).toBe(1);
    expect(q.take()).toEqual(['!b2', '!b3', '!b4']);
  });

  it('a flood of audit-mode items never displaces a queued enforce-mode one', () => {
    const q = new AuditQueue<string>({ capacity: 100, priority: urgent });
    for (let i = 0; i < 10; i++) q.push(`!b${i}`);
    for (let i = 0; i < 30_000; i++) q.push(`a${i}`);
    expect(q.size).toBe(100);
    const out = q.take(20);
    expect(out.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `!b${i}`));
    expect(out[10]).toBe('a29910');
    expect(q.dropped()).toMatchObject({ overflow: 30_000 - 90, overflowEnforce: 0 });
  });

  it('requeues into each lane, losing audit-mode items first', () => {
    const q = new AuditQueue<string>({ capacity: 3, priority: urgent });
    ['!b1', 'a1', 'a2'].forEach((i) => q.push(i));
    const batch = q.take(3);
    q.push('a3');
    q.push('a4');
    q.requeue(batch); // room for one: the enforce-mode item
    expect(q.take()).toEqual(['!b1', 'a3', 'a4']);
    expect(q.dropped().overflow).toBe(2);
  });
});
