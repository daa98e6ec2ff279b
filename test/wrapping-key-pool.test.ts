/** The wrapping-key pool: filled ahead, never hands a pair out twice, on demand when empty. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPureBackend } from '../src/backends/pure/pure-backend.js';
import { ManualClock } from '../src/clock.js';
import { openEngine } from '../src/open-engine.js';
import { WrappingKeyPool } from '../src/engine/wrapping-key-pool.js';
import { generateEngineKeys } from '../src/config/key-files.js';

describe('WrappingKeyPool', () => {
  it('fills to its targets, serves distinct pairs, refills below the low-water mark, counts on-demand', async () => {
    const backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
    const clock = new ManualClock();
    const pool = new WrappingKeyPool({ backend, targets: { RSA_2048: 4, SM2: 4 }, clock });
    await pool.refill();
    expect(pool.depth('RSA_2048')).toBe(4);
    expect(pool.depth('SM2')).toBe(4);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(Buffer.from((await pool.take('SM2')).publicKeySpki).toString('hex'));
    expect(seen.size).toBe(4);
    expect(pool.stats).toMatchObject({ served: 4, onDemand: 0 });
    await pool.refill();
    expect(pool.depth('SM2')).toBe(4);
    // A spec that is not pooled is generated on demand without touching the counters' meaning.
    await pool.take('RSA_3072');
    // Pairs past their maximum age are dropped, not served.
    clock.advance(3601_000);
    await pool.take('RSA_2048');
    expect(pool.stats.onDemand).toBe(1);
    await pool.close();
    await backend.close();
  });

  it('makes getParametersForImport cost a token seal: no key generation with a warm pool', async () => {
    const engine = await openEngine({ store: 'memory', keys: generateEngineKeys(), wrappingKeyPoolDepth: 3 });
    await engine.wrappingKeyPool!.refill();
    const key = await engine.createKey({ tenant: 't' });
    const params = await engine.getParametersForImport({ tenant: 't', keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
        expect(params.importToken.length).toBeGreaterThan(200);
    // Served from the pool: no key generation on the request path.
    expect(engine.wrappingKeyPool!.stats).toMatchObject({ served: 1, onDemand: 0 });
    await engine.close();
  });
});
