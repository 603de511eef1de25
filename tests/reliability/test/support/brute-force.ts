import type { SearchCall, SequentialModel } from '../../src/search.ts'

/**
 * The definition of linearizability, checked by enumerating orders: is there a sequence holding
 * every required call and any of the optional ones, in which a call never comes before a call
 * that returned before it was invoked, nor before one listed in its `after`, and in which every
 * call fits the model? Exponential: for the small histories the search is compared against.
 */
export function bruteForceLinearizable<State, Operation>(
  calls: readonly SearchCall<Operation>[],
  model: SequentialModel<State, Operation>,
): boolean {
  const placed = new Array<boolean>(calls.length).fill(false)
  const mustPrecede = calls.map((call, index) =>
    calls
      .map((other, position) => ({ other, position }))
      .filter(
        ({ other, position }) =>
          other.required &&
          (other.returnedAt < call.invokedAt || (call.after ?? []).includes(position)),
      )
      .map(({ position }) => position)
      .filter((position) => position !== index),
  )
  const explore = (state: State, remaining: number): boolean => {
    if (remaining === 0) return true
    for (let index = 0; index < calls.length; index++) {
      if (placed[index]) continue
      if (!mustPrecede[index]!.every((position) => placed[position])) continue
      const next = model.step(state, calls[index]!.operation)
      if (next === undefined) continue
      placed[index] = true
      const ok = explore(next, remaining - (calls[index]!.required ? 1 : 0))
      placed[index] = false
      if (ok) return true
    }
    return false
  }
  return explore(model.initial, calls.filter((call) => call.required).length)
}
