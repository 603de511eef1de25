import type { ComponentChildren } from 'preact'
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'

/** What a confirmation asks. `destructive`: the safe choice (Cancel) has the focus. */
export interface ConfirmRequest {
  readonly title: string
  readonly body: ComponentChildren
  readonly confirmLabel: string
  readonly destructive?: boolean
}

interface Pending extends ConfirmRequest {
  resolve(confirmed: boolean): void
}

/**
 * A native modal `<dialog>`: focus stays inside it, Escape cancels, Tab and Enter work as
 * everywhere. `ask` resolves true only when the confirm button was chosen.
 */
export function useConfirm(): {
  ask(request: ConfirmRequest): Promise<boolean>
  dialog: ComponentChildren
} {
  const [pending, setPending] = useState<Pending | null>(null)
  const ref = useRef<HTMLDialogElement>(null)

  useEffect(() => {
    const dialog = ref.current
    if (pending !== null && dialog !== null && !dialog.open) {
      dialog.returnValue = ''
      dialog.showModal()
    }
  }, [pending])

  const ask = useCallback(
    (request: ConfirmRequest) =>
      new Promise<boolean>((resolve) => setPending({ ...request, resolve })),
    [],
  )

  const onClose = () => {
    const confirmed = ref.current?.returnValue === 'confirm'
    pending?.resolve(confirmed)
    setPending(null)
  }

  const dialog = (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={onClose}>
      {pending === null ? null : (
        <form method="dialog">
          <h2 id="confirm-title">{pending.title}</h2>
          <div class="confirm-body">{pending.body}</div>
          <div class="confirm-buttons">
            <button type="submit" value="cancel" autofocus={pending.destructive === true}>
              Cancel
            </button>
            <button
              type="submit"
              value="confirm"
              class={pending.destructive === true ? 'danger' : 'primary'}
              autofocus={pending.destructive !== true}
            >
              {pending.confirmLabel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  )
  return { ask, dialog }
}
