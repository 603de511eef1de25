import type { AbortOptions } from '@pinraft/raft-core'
import { InvalidCidError, InvalidPinError, StateImportError } from '../errors.ts'
import type { PinsetState, PinsetStateInit } from '../state/pinset-state.ts'
import { createPinsetState } from '../state/pinset-state.ts'
import { JsonStreamFailure, jsonValues } from './json-values.ts'
import { pinInputFromClusterJson, pinToClusterJson } from './pin-json.ts'

/**
 * The pinset as IPFS Cluster's `state export` file: one JSON pin per line, in CID order, each
 * line ending with "\n". Stream it to a file, e.g. `pipeline(Readable.from(exportState(state)),
 * createWriteStream(path))`. `ipfs-cluster-service state import` reads it back.
 */
export async function* exportState(
  state: PinsetState,
  options?: AbortOptions,
): AsyncGenerator<string> {
  for await (const pin of state.list(options)) yield `${pinToClusterJson(pin)}\n`
}

export interface ImportStateOptions extends AbortOptions, PinsetStateInit {}

/**
 * Reads an IPFS Cluster `state export` file (text or UTF-8 chunks, split anywhere) into a new
 * pinset. Every pin is validated; the first bad one throws `StateImportError` with its line
 * number, and nothing is returned, so a file is imported whole or not at all. A CID listed twice
 * keeps its last pin, as IPFS Cluster does.
 *
 * The result is a fresh state outside consensus: install it through a snapshot (as IPFS
 * Cluster's Raft mode does), never by mixing it into a running peer's state.
 */
export async function importState(
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  options: ImportStateOptions = {},
): Promise<PinsetState> {
  const state = createPinsetState(options)
  // As applying each pin in turn would (the same validation and rules), sorted once at the end.
  const load = state.bulkLoad()
  try {
    for await (const value of jsonValues(source)) {
      options.signal?.throwIfAborted()
      let parsed: unknown = value.parsed
      try {
        if (parsed === undefined) parsed = JSON.parse(value.text)
      } catch (error) {
        throw new StateImportError(value.line, `it is not valid JSON (${(error as Error).message})`)
      }
      try {
        load.addPin(pinInputFromClusterJson(parsed))
      } catch (error) {
        if (error instanceof InvalidPinError || error instanceof InvalidCidError) {
          throw new StateImportError(value.line, error.message, { cause: error })
        }
        throw error
      }
    }
    load.finish()
  } catch (error) {
    if (error instanceof JsonStreamFailure) throw new StateImportError(error.line, error.message)
    throw error
  }
  return state
}
