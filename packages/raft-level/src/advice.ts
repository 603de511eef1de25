/** What an operator can do about a damaged store; every corruption error ends with it. */
export const restoreAdvice =
  "restore the folder from a backup, or remove this peer's data and let the peer rejoin the cluster so that the leader sends it a snapshot"
