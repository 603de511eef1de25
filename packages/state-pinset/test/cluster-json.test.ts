import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import type { PinsetState } from '../src/index.ts'
import {
  createPinsetState,
  exportState,
  importState,
  pinFromClusterJson,
  pinToClusterJson,
  StateImportError,
  validatePin,
} from '../src/index.ts'
import { applyAll, cidOf, cidV0, cidV1, peerOf } from './fixtures.ts'

async function exported(state: PinsetState): Promise<string> {
  let text = ''
  for await (const line of exportState(state)) text += line
  return text
}

async function importError(text: string): Promise<StateImportError> {
  const error = await importState([text]).then(
    () => null,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(StateImportError)
  return error as StateImportError
}

describe('IPFS Cluster state export JSON', () => {
  it('writes each CID as CID.toString does: a v0 in base58btc, a v1 in base32 whatever base it came in', () => {
    const base58v1 = CID.parse(cidV1).toString(base58btc)
    for (const [input, expected] of [
      [cidV0, cidV0],
      [cidV1, cidV1],
      [base58v1, cidV1],
      [cidOf(7).toString(), cidOf(7).toString()],
    ] as const) {
      const line = JSON.parse(
        pinToClusterJson(
          validatePin({ cid: input, reference: cidV0, timestamp: 0, type: 'meta-pin' }),
        ),
      ) as { cid: string; reference: string }
      expect(line.cid, input).toBe(expected)
      expect(line.reference).toBe(cidV0)
    }
  })

  it('writes a pin exactly as IPFS Cluster 1.x encodes api.Pin', () => {
    const pin = validatePin({
      cid: cidV0,
      allocations: [peerOf(1)],
      replicationFactorMin: 1,
      replicationFactorMax: 2,
      timestamp: Date.UTC(2024, 4, 1, 12, 0, 0),
    })
    // Go's field order: the embedded PinOptions first, then the Pin fields.
    expect(pinToClusterJson(pin)).toBe(
      '{"replication_factor_min":1,"replication_factor_max":2,"name":"","mode":"recursive","shard_size":0,' +
        '"user_allocations":null,"expire_at":"0001-01-01T00:00:00Z","metadata":null,"pin_update":null,"origins":[],' +
        `"cid":"${cidV0}","type":"pin","allocations":["${peerOf(1)}"],"max_depth":-1,"reference":null,` +
        '"timestamp":"2024-05-01T12:00:00Z"}',
    )
  })

  it('escapes strings as Go does and writes fractions of a second without trailing zeros', () => {
    const pin = validatePin({
      cid: cidV1,
      name: 'a<b>&c',
      metadata: { k: '\u2028' },
      expireAt: Date.UTC(2030, 0, 1, 0, 0, 0, 120),
    })
    const line = pinToClusterJson(pin)
    expect(line).toContain('"name":"a\\u003cb\\u003e\\u0026c"')
    expect(line).toContain('"metadata":{"k":"\\u2028"}')
    expect(line).toContain('"expire_at":"2030-01-01T00:00:00.12Z"')
    expect(pinFromClusterJson(JSON.parse(line))).toEqual(pin)
  })

  it('reads the 1.x form, with times in any offset', () => {
    const line = `{"replication_factor_min":-1,"replication_factor_max":-1,"name":"n","mode":"direct","shard_size":0,"user_allocations":null,"expire_at":"2031-01-01T02:00:00+02:00","metadata":{"a":"b"},"pin_update":null,"origins":[],"cid":"${cidV1}","type":"pin","allocations":[],"max_depth":0,"reference":null,"timestamp":"2024-05-01T14:00:00.123456789+02:00"}`
    expect(pinFromClusterJson(JSON.parse(line))).toMatchObject({
      name: 'n',
      mode: 'direct',
      maxDepth: 0,
      replicationFactorMin: -1,
      expireAt: Date.UTC(2031, 0, 1),
      metadata: { a: 'b' },
      timestamp: Date.UTC(2024, 4, 1, 12, 0, 0, 123),
    })
  })

  it('reads the 0.x form: numeric types and {"/": cid} links', () => {
    // The line IPFS Cluster keeps in cmd/ipfs-cluster-service/export.json.
    const line =
      '{"replication_factor_min":-1,"replication_factor_max":-1,"name":"","mode":"direct","shard_size":0,"user_allocations":null,"expire_at":"0001-01-01T00:00:00Z","metadata":null,"pin_update":null,"cid":{"/":"QmUaFyXjZUNaUwYF8rBtbJc7fEJ46aJXvgV8z2HHs6jvmJ"},"type":2,"allocations":[],"max_depth":0,"reference":null}'
    const pin = pinFromClusterJson(JSON.parse(line))
    expect(pin).toMatchObject({ type: 'pin', mode: 'direct', maxDepth: 0, timestamp: null })
    expect(pin.cid.toString()).toBe(cidV0)
  })

  it('reads sparse pins with defaults, and pretty-printed objects spanning lines', async () => {
    // The shape of IPFS Cluster's sharness importState test file.
    const text = `{\n  "cid": "QmbrCtydGyPeHiLURSPMqrvE5mCgMCwFYq3UD4XLCeAYw6",\n  "name": "",\n  "allocations": [],\n  "replication_factor_min": -1,\n  "replication_factor_max": -1\n}\n`
    const state = await importState([text])
    const pin = state.get('QmbrCtydGyPeHiLURSPMqrvE5mCgMCwFYq3UD4XLCeAYw6')
    expect(pin).toMatchObject({
      type: 'pin',
      mode: 'recursive',
      maxDepth: -1,
      replicationFactorMin: -1,
    })
  })

  it('round-trips export → import → export byte for byte', async () => {
    const state = createPinsetState()
    applyAll(
      state,
      {
        type: 'pin',
        pin: {
          cid: cidV0,
          type: 'meta-pin',
          reference: cidV1,
          name: 'sharded',
          shardSize: 1 << 20,
          timestamp: 1,
        },
      },
      {
        type: 'pin',
        pin: {
          cid: cidV1,
          type: 'clusterdag-pin',
          maxDepth: 0,
          reference: cidV0,
          replicationFactorMin: -1,
          replicationFactorMax: -1,
        },
      },
      {
        type: 'pin',
        pin: {
          cid: cidOf(1),
          type: 'shard-pin',
          maxDepth: 1,
          allocations: [peerOf(1), peerOf(2)],
          userAllocations: [peerOf(2)],
        },
      },
      {
        type: 'pin',
        pin: {
          cid: cidOf(2),
          metadata: { ключ: 'ünïcode', a: '"quoted"\n' },
          origins: [`/dns4/example.org/tcp/4001/p2p/${peerOf(3)}`],
          expireAt: '2040-01-01T00:00:00Z',
        },
      },
    )
    const text = await exported(state)
    expect(text.split('\n')).toHaveLength(5)
    expect(await exported(await importState([text]))).toBe(text)
  })

  it('imports from UTF-8 chunks split anywhere, even inside a character', async () => {
    const state = createPinsetState()
    applyAll(
      state,
      ...Array.from({ length: 20 }, (_, n) => ({
        type: 'pin' as const,
        pin: { cid: cidOf(n), name: `ünïcødé ${n} 📌` },
      })),
    )
    const bytes = new TextEncoder().encode(await exported(state))
    const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) =>
      bytes.subarray(i * 7, i * 7 + 7),
    )
    expect(await exported(await importState(chunks))).toBe(await exported(state))
  })

  it('keeps the last pin of a CID listed twice, as IPFS Cluster does', async () => {
    const state = await importState([
      `{"cid":"${cidV1}","name":"first"}\n{"cid":"${cidV1}","name":"second"}\n`,
    ])
    expect(state.count()).toBe(1)
    expect(state.get(cidV1)?.name).toBe('second')
  })

  it('reads two objects on one line, trailing blanks, and a pretty-printed one among single lines', async () => {
    const state = await importState([
      `{"cid":"${cidOf(1)}"} {"cid":"${cidOf(2)}","name":"two"}\n`,
      `{"cid":"${cidOf(3)}"}  \t\r\n`,
      `{\n"cid":"${cidOf(4)}",\n"name":"four"\n}\n{"cid":"${cidOf(5)}"}\n`,
    ])
    expect(state.count()).toBe(5)
    expect(state.get(cidOf(2).toString())?.name).toBe('two')
    expect(state.get(cidOf(4).toString())?.name).toBe('four')
    const error = await importError(
      `{"cid":"${cidOf(1)}"}\n{\n"cid":"${cidOf(2)}"\n}\n{"cid":"${cidOf(3)}"} x\n`,
    )
    expect(error.line).toBe(5)
    expect(error.message).toContain('JSON object')
  })

  describe('a bad line', () => {
    const good = `{"cid":"${cidV1}"}`
    it.each([
      [`${good}\n{"cid":"QmNope"}\n`, 2, 'cid'],
      [
        `${good}\n\n{"cid":"${cidV0}","replication_factor_min":-1,"replication_factor_max":3}\n`,
        3,
        'replication_factor',
      ],
      [`${good}\n{"cid":"${cidV0}","type":"all"}\n`, 2, 'type'],
      [`${good}\n{"cid":"${cidV0}","allocations":["nobody"]}\n`, 2, 'allocations'],
      [`${good}\n{"cid":"${cidV0}","expire_at":"soon"}\n`, 2, 'expire_at'],
      [`${good}\n{"cid":"${cidV0}",}\n`, 2, 'not valid JSON'],
      [`${good}\n[1,2]\n`, 2, 'JSON object'],
      [`${good}\n{"name":"no cid"}\n`, 2, 'cid is missing'],
      [`${good}\n{"cid":"${cidV0}",\n"name":"unterminated\n}\n`, 3, 'string runs past'],
      [`${good}\n{"cid":"${cidV0}",\n"name":"x"\n`, 2, 'truncated'],
    ])(
      'is reported with its line number and nothing is imported (%#)',
      async (text, line, reason) => {
        const error = await importError(text)
        expect(error.name).toBe('StateImportError')
        expect(error.line).toBe(line)
        expect(error.message).toContain(`line ${line}`)
        expect(error.message).toContain(reason)
        expect(error.message).toContain('nothing was imported')
      },
    )
  })
})
