import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { learnMemberAddresses } from '../src/daemon/member-addresses.ts'
import { idJson } from '../src/http/id-json.ts'

async function newPeerId(): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

describe('members learn the addresses of members they cannot dial', () => {
  it('asks a connected member and imports what it knows of the missing ones only', async () => {
    const [self, leader, lost, known, unreachable] = await Promise.all(
      Array.from({ length: 5 }, newPeerId),
    )
    const addresses = new Map<string, string[]>([
      [leader!, [`/ip4/127.0.0.1/tcp/4001/p2p/${leader}`]],
      [known!, [`/ip4/127.0.0.1/tcp/4002/p2p/${known}`]],
      // Known but never connected: not asked.
      [unreachable!, [`/ip4/127.0.0.1/tcp/4003/p2p/${unreachable}`]],
    ])
    const asked: string[] = []
    const imported: string[] = []
    const lostAddress = `/ip4/127.0.0.1/tcp/4004/p2p/${lost}`
    const missing = await learnMemberAddresses(
      {
        peerId: self!,
        members: async () => [self!, leader!, lost!, known!, unreachable!],
        knownAddresses: async (peerId: PeerId) =>
          (addresses.get(peerId.toString()) ?? []).map((address) => multiaddr(address)),
        connected: (peerId: PeerId) => ![unreachable, lost].includes(peerId.toString()),
        requestId: async (peerId) => {
          asked.push(peerId)
          return idJson({
            id: peerId,
            cluster_peers_addresses: [lostAddress, `/ip4/127.0.0.1/tcp/4002/p2p/${known}`],
          })
        },
        importAddresses: async (list) => {
          imported.push(...list)
          addresses.set(lost!, [lostAddress])
        },
        logger: pino({ level: 'silent' }),
      },
      { signal: new AbortController().signal, callTimeout: 1_000 },
    )
    expect(missing).toBe(0)
    expect(imported).toEqual([lostAddress])
    // One connected member answered for the missing one: nobody else was asked.
    expect(asked).toHaveLength(1)
    expect(asked[0]).not.toBe(unreachable)
    expect(asked[0]).not.toBe(lost)
  })

  it('asks a missing member that dialled in for its own addresses', async () => {
    const [self, joined] = await Promise.all([newPeerId(), newPeerId()])
    const own = `/ip4/127.0.0.1/tcp/4005/p2p/${joined}`
    const imported: string[] = []
    const missing = await learnMemberAddresses(
      {
        peerId: self,
        members: async () => [self, joined],
        knownAddresses: async () => [],
        connected: () => true,
        requestId: async (peerId) => idJson({ id: peerId, addresses: [own] }),
        importAddresses: async (list) => {
          imported.push(...list)
        },
        logger: pino({ level: 'silent' }),
      },
      { signal: new AbortController().signal, callTimeout: 1_000 },
    )
    expect(missing).toBe(0)
    expect(imported).toEqual([own])
  })

  it('asks nobody when every member has an address', async () => {
    const [self, other] = await Promise.all([newPeerId(), newPeerId()])
    let asked = 0
    const missing = await learnMemberAddresses(
      {
        peerId: self,
        members: async () => [self, other],
        knownAddresses: async () => [multiaddr('/ip4/127.0.0.1/tcp/4001')],
        connected: () => true,
        requestId: async () => {
          asked++
          return idJson({ id: other })
        },
        importAddresses: async () => {},
        logger: pino({ level: 'silent' }),
      },
      { signal: new AbortController().signal, callTimeout: 1_000 },
    )
    expect(missing).toBe(0)
    expect(asked).toBe(0)
  })
})
