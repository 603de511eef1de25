/** What an operator can do about a damaged store; every corruption error ends with it. */
export const restoreAdvice =
  "the folder is left as it was, for inspection. Restore the peer's Raft folder from a backup, or move it away (`pinraft state cleanup`) and rejoin the cluster (`pinraft daemon --bootstrap <peer multiaddress>`) so that the leader sends this peer a snapshot"
