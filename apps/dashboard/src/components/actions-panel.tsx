import { useState } from 'preact/hooks'
import type { UploadProgress } from '../api.ts'
import { formatBytes } from '../format.ts'

/** What the pin form submits. */
export interface PinRequest {
  readonly cid: string
  readonly name: string
  readonly replicationMin: number
  readonly replicationMax: number
}

/** Pin a CID (with name and replication factors) and upload a file through `/add`. */
export function ActionsPanel(props: {
  onPin(request: PinRequest): Promise<boolean>
  onUpload(
    file: File,
    options: { name: string; pin: boolean },
    onProgress: (progress: UploadProgress) => void,
  ): Promise<string | null>
}) {
  const [cid, setCid] = useState('')
  const [name, setName] = useState('')
  const [replicationMin, setReplicationMin] = useState('0')
  const [replicationMax, setReplicationMax] = useState('0')
  const [file, setFile] = useState<File | null>(null)
  const [uploadName, setUploadName] = useState('')
  const [pinUpload, setPinUpload] = useState(true)
  const [progress, setProgress] = useState<UploadProgress | null>(null)
  const [uploading, setUploading] = useState(false)
  const [added, setAdded] = useState<string | null>(null)

  const submitPin = async (event: Event) => {
    event.preventDefault()
    const pinned = await props.onPin({
      cid: cid.trim(),
      name: name.trim(),
      replicationMin: Number(replicationMin),
      replicationMax: Number(replicationMax),
    })
    if (pinned) {
      setCid('')
      setName('')
    }
  }

  const submitUpload = async (event: Event) => {
    event.preventDefault()
    if (file === null) return
    setUploading(true)
    setAdded(null)
    setProgress({ loaded: 0, total: file.size })
    try {
      setAdded(await props.onUpload(file, { name: uploadName.trim(), pin: pinUpload }, setProgress))
    } finally {
      setUploading(false)
    }
  }

  const percent =
    progress === null || progress.total === 0
      ? 0
      : Math.round((progress.loaded / progress.total) * 100)

  return (
    <section id="actions" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <div class="forms">
        <form class="card" onSubmit={submitPin} aria-labelledby="pin-form-title">
          <h3 id="pin-form-title">Pin a CID</h3>
          <label for="pin-cid">CID</label>
          <input
            id="pin-cid"
            required
            value={cid}
            onInput={(event) => setCid((event.target as HTMLInputElement).value)}
            placeholder="bafy…"
            autocomplete="off"
            spellcheck={false}
          />
          <label for="pin-name">Name</label>
          <input
            id="pin-name"
            value={name}
            onInput={(event) => setName((event.target as HTMLInputElement).value)}
          />
          <div class="pair">
            <span>
              <label for="pin-rmin">Replication min</label>
              <input
                id="pin-rmin"
                type="number"
                min="-1"
                step="1"
                value={replicationMin}
                onInput={(event) => setReplicationMin((event.target as HTMLInputElement).value)}
              />
            </span>
            <span>
              <label for="pin-rmax">Replication max</label>
              <input
                id="pin-rmax"
                type="number"
                min="-1"
                step="1"
                value={replicationMax}
                onInput={(event) => setReplicationMax((event.target as HTMLInputElement).value)}
              />
            </span>
          </div>
          <small>0: the cluster's default; -1: every peer.</small>
          <button type="submit" class="primary">
            Pin…
          </button>
        </form>

        <form class="card" onSubmit={submitUpload} aria-labelledby="upload-form-title">
          <h3 id="upload-form-title">Upload a file</h3>
          <label for="upload-file">File</label>
          <input
            id="upload-file"
            type="file"
            required
            onChange={(event) => setFile((event.target as HTMLInputElement).files?.[0] ?? null)}
          />
          <label for="upload-name">Name</label>
          <input
            id="upload-name"
            value={uploadName}
            onInput={(event) => setUploadName((event.target as HTMLInputElement).value)}
          />
          <label class="check">
            <input
              id="upload-pin"
              type="checkbox"
              checked={pinUpload}
              onChange={(event) => setPinUpload((event.target as HTMLInputElement).checked)}
            />
            Pin it in the cluster once added
          </label>
          <button type="submit" class="primary" disabled={uploading || file === null}>
            {uploading ? 'Uploading…' : 'Upload'}
          </button>
          {progress === null ? null : (
            <div class="upload-progress">
              <progress
                id="upload-progress"
                max={100}
                value={percent}
                aria-label="Upload progress"
              />
              <span>
                {percent}% · {formatBytes(progress.loaded)} of {formatBytes(progress.total)}
              </span>
            </div>
          )}
          {added === null ? null : (
            <p class="added" aria-live="polite">
              Added <code data-testid="added-cid">{added}</code>
            </p>
          )}
        </form>
      </div>
    </section>
  )
}
