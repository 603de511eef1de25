/**
 * The pinset snapshot format, version 1. Everything is big-endian; varints are unsigned LEB128.
 *
 *     magic     8 bytes  "PRPINSET"
 *     version   2 bytes  format version (1)
 *     frames…            each: kind (1 byte), payload length (4 bytes), payload, CRC-32 (4 bytes)
 *                        of kind + length + payload
 *
 *     HEADER (kind 1, first, once): varint pin count, varint request-id capacity, varint request-id
 *            count, then each request id (varint length, UTF-8), oldest first
 *     PINS   (kind 2, any number):  varint record count, then each record (varint length, bytes):
 *            the CID's bytes then the pin body (see `writePinBody`), in strictly increasing CID
 *            order across the whole stream; peer references use one dictionary for the stream
 *     END    (kind 3, last, once):  varint pin count, varint peer dictionary size
 *
 * The stream is a function of the state alone (frames close at a fixed size), so two replicas
 * with the same state write the same bytes.
 */

export const snapshotMagic = new Uint8Array([0x50, 0x52, 0x50, 0x49, 0x4e, 0x53, 0x45, 0x54])
/** The version this build writes. Older versions are read and migrated; newer ones refused. */
export const snapshotFormatVersion = 1
export const frameKind = { header: 1, pins: 2, end: 3 } as const
/** A PINS frame closes once its records reach this many bytes. */
export const framePayloadTarget = 64 * 1024
/** Larger frames are refused as corrupt (the header frame holds at most 10,000s of request ids). */
export const maxFramePayload = 64 * 1024 * 1024
