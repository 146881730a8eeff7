import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { dohResolver } from '../../workers/webhooks/doh.ts';
import { MAX_ATTEMPTS, parseRetryAfter, RETRY_DELAYS_MS, retryDelay } from '../../workers/webhooks/schedule.ts';
import { generateSecret, signedHeaders } from '../../workers/webhooks/signing.ts';

describe('signing', () => {
  it('makes whsec_ secrets of 24 random bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(generateSecret()).not.toBe(secret);
    expect(atob(secret.slice(6))).toHaveLength(24);
  });

  it('signs as Standard Webhooks receivers verify, with either secret while rotating', async () => {
    const [current, previous, other] = [generateSecret(), generateSecret(), generateSecret()];
    const body = JSON.stringify({ type: 'audit.event', data: { x: 'ü' } });
    const headers = await signedHeaders([current, previous], 'msg_1', new Date(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+ v1,[A-Za-z0-9+/=]+$/);
    expect(new Webhook(current).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(other).verify(body, { ...headers })).toThrow(WebhookVerificationError);
    expect(() => new Webhook(current).verify(body + ' ', { ...headers })).toThrow(WebhookVerificationError);
    const single = await signedHeaders([current], 'msg_1', new Date(), body);
    expect(single['webhook-signature'].split(' ')).toHaveLength(1);
    expect(() => new Webhook(previous).verify(body, { ...single })).toThrow(WebhookVerificationError);
  });

  it('timestamps in Unix seconds, which receivers check against their clock', async () => {
    const secret = generateSecret();
    const old = await signedHeaders([secret], 'msg_2', new Date(Date.now() - 3600_000), '{}');
    expect(old['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(() => new Webhook(secret).verify('{}', { ...old })).toThrow(/too old/);
  });
});

describe('the retry schedule', () => {
  it('follows Standard Webhooks: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, then gives up', () => {
    const mid = () => 0.5;
    expect(MAX_ATTEMPTS).toBe(10);
    expect(Array.from({ length: 10 }, (_, i) => retryDelay(i + 1, mid))).toEqual([...RETRY_DELAYS_MS, undefined]);
    expect(RETRY_DELAYS_MS.map((ms) => ms / 1000)).toEqual([5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
  });

  it('jitters each delay by ±10 %', () => {
    expect(retryDelay(2, () => 0)).toBe(270_000);
    expect(retryDelay(2, () => 0.999999)).toBeCloseTo(330_000, -1);
  });

  it('lets Retry-After lengthen a wait, not shorten it, and caps it at 24 h', () => {
    expect(retryDelay(1, () => 0.5, 120_000)).toBe(120_000);
    expect(retryDelay(3, () => 0.5, 1000)).toBe(1_800_000);
    expect(retryDelay(1, () => 0.5, 10 * 86_400_000)).toBe(86_400_000);
    expect(retryDelay(10, () => 0.5, 1000)).toBeUndefined();
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2026-08-01T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sat, 01 Aug 2026 12:10:00 GMT', now)).toBe(600_000);
    expect(parseRetryAfter('Sat, 01 Aug 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('the DNS-over-HTTPS resolver', () => {
  it('asks for A and AAAA with the JSON API and answers only addresses', async () => {
    const asked: string[] = [];
    const fake = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input));
      asked.push(`${url.searchParams.get('name')} ${url.searchParams.get('type')} ${new Headers(init?.headers).get('accept')}`);
      const answers =
        url.searchParams.get('type') === 'A'
          ? [{ type: 5, data: 'target.example.net.' }, { type: 1, data: '93.184.215.14' }]
          : [{ type: 28, data: '2606:2800:21f:cb07:6820:80da:af6b:8b2c' }];
      return Response.json({ Status: 0, Answer: answers });
    }) as typeof fetch;
    expect(await dohResolver(fake)('hooks.example.com')).toEqual(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
    expect(asked.sort()).toEqual(['hooks.example.com A application/dns-json', 'hooks.example.com AAAA application/dns-json']);
  });

  it('answers no addresses for NXDOMAIN and fails on resolver errors', async () => {
    const nx = (async () => Response.json({ Status: 3 })) as typeof fetch;
    expect(await dohResolver(nx)('nope.example.com')).toEqual([]);
    const servfail = (async () => Response.json({ Status: 2 })) as typeof fetch;
    await expect(dohResolver(servfail)('x.example.com')).rejects.toThrow(/DNS status 2/);
    const down = (async () => new Response('', { status: 502 })) as typeof fetch;
    await expect(dohResolver(down)('x.example.com')).rejects.toThrow(/502/);
  });
});
