import { PeerTable } from './peer-table.ts'
import { RequestLog } from './request-log.ts'
import { SortedRecords } from './sorted-records.ts'

/** Everything the replicated state holds; `restore` swaps one in whole. */
export interface PinsetContents {
  readonly records: SortedRecords
  readonly peers: PeerTable
  readonly requests: RequestLog
}

export function emptyContents(requestIdCapacity: number): PinsetContents {
  return {
    records: new SortedRecords(),
    peers: new PeerTable(),
    requests: new RequestLog(requestIdCapacity),
  }
}
