import type { PinOptions } from './api-client.ts'

/**
 * The query string of a pin request (`?name=…&replication-min=…`), or '' when there is no
 * option: the parameters 1.x's PinOptions.ToQuery writes, for the options that were given.
 */
export function pinQueryString(options: PinOptions): string {
  const query = new URLSearchParams()
  if (options.name !== undefined) query.set('name', options.name)
  if (options.mode !== undefined) query.set('mode', options.mode)
  if (options.replicationMin !== undefined)
    query.set('replication-min', String(options.replicationMin))
  if (options.replicationMax !== undefined)
    query.set('replication-max', String(options.replicationMax))
  if (options.userAllocations !== undefined && options.userAllocations.length > 0)
    query.set('user-allocations', options.userAllocations.join(','))
  if (options.expireIn !== undefined) query.set('expire-in', options.expireIn)
  for (const [key, value] of Object.entries(options.metadata ?? {})) query.set(`meta-${key}`, value)
  if (options.pinUpdate !== undefined) query.set('pin-update', options.pinUpdate)
  return query.size === 0 ? '' : `?${query.toString()}`
}
