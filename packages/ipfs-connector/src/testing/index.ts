/**
 * Test helpers other packages reuse: a local HTTP server answering Kubo's RPC API with the
 * request and response shapes Kubo documents (not a real Kubo).
 */
export { type FakeKubo, startFakeKubo } from './fake-kubo.ts'
