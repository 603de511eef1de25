import { createHash, timingSafeEqual } from 'node:crypto'

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/**
 * Whether an `Authorization: Basic …` value names one of `credentials`. Its time depends on
 * neither the lengths involved nor whether the user exists: both sides are hashed to a fixed
 * length, and every configured pair is compared.
 */
export function basicAuthMatches(
  header: string | undefined,
  credentials: Readonly<Record<string, string>>,
): boolean {
  if (header === undefined || !/^basic /i.test(header)) return false
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
  const separator = decoded.indexOf(':')
  if (separator < 0) return false
  const user = digest(decoded.slice(0, separator))
  const password = digest(decoded.slice(separator + 1))
  // As IPFS Cluster: an empty user or password never matches.
  let matched = separator > 0 && separator < decoded.length - 1
  let any = false
  for (const [expectedUser, expectedPassword] of Object.entries(credentials)) {
    const userMatches = timingSafeEqual(user, digest(expectedUser))
    const passwordMatches = timingSafeEqual(password, digest(expectedPassword))
    any = (userMatches && passwordMatches) || any
  }
  matched = matched && any
  return matched
}

/** Whether an `Authorization` header is a bearer token (IPFS Cluster's JWT). */
export function isBearer(header: string | undefined): boolean {
  return header !== undefined && /^bearer /i.test(header)
}
