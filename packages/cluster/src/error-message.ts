/** An error's message for a log line or a `cluster_error` entry, whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
