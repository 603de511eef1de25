export type { CID } from 'multiformats/cid'
export { cidKey, cidText, maxCidBytes, parseCid } from './cid.ts'
export { pinFromClusterJson, pinToClusterJson } from './cluster-json/pin-json.ts'
export type { ImportStateOptions } from './cluster-json/state-export.ts'
export { exportState, importState } from './cluster-json/state-export.ts'
export * from './errors.ts'
export type {
  BatchOperation,
  Operation,
  PinOperation,
  UnpinOperation,
} from './operation/operation.ts'
export {
  decodeOperation,
  encodeOperation,
  maxRequestIdBytes,
  operationFormatVersion,
} from './operation/operation.ts'
export { parsePeerId } from './pin/peer-id.ts'
export type { Pin, PinInput, PinMode, PinType, TimeInput } from './pin/pin.ts'
export { pinTypes } from './pin/pin.ts'
export { validatePin } from './pin/validate.ts'
export { snapshotFormatVersion } from './snapshot/format.ts'
export type { ApplyResult, OperationOutcome } from './state/apply-result.ts'
export type {
  ListOptions,
  PinAddEventDetail,
  PinRemoveEventDetail,
  PinsetBulkLoad,
  PinsetEvents,
  PinsetStateInit,
  StateRestoreEventDetail,
} from './state/pinset-state.ts'
export { createPinsetState, defaultRequestIdCapacity, PinsetState } from './state/pinset-state.ts'
