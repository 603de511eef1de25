import { readFileSync } from 'node:fs'

/** This build's version, from the package.json one folder above `src/` (or `dist/`). */
export const serviceVersion: string = (() => {
  try {
    const json = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: unknown
    }
    return typeof json.version === 'string' ? json.version : '0.0.0'
  } catch {
    return '0.0.0'
  }
})()
