/**
 * Arbitraries of protobuf-shaped bytes: random fields (numbers near the schema's, every wire
 * type, nested messages) reach much deeper into a decoder than uniformly random bytes do.
 */
import fc from "fast-check";

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

type Field =
  | { wire: 0; field: number; value: bigint }
  | { wire: 1; field: number; bytes: Uint8Array }
  | { wire: 2; field: number; payload: Uint8Array; lengthSkew: number }
  | { wire: 5; field: number; bytes: Uint8Array }
  | { wire: 3 | 4 | 6 | 7; field: number };

function encode(fields: readonly Field[]): Uint8Array {
  const out: number[] = [];
  for (const f of fields) {
    out.push(...varint(BigInt(f.field) * 8n + BigInt(f.wire)));
    switch (f.wire) {
      case 0:
        out.push(...varint(f.value));
        break;
      case 1:
      case 5:
        out.push(...f.bytes);
        break;
      case 2:
        // A length that lies a little now and then (past the end, or short).
        out.push(...varint(BigInt(Math.max(0, f.payload.length + f.lengthSkew))));
        out.push(...f.payload);
        break;
      default:
        break;
    }
  }
  return Uint8Array.from(out);
}

const fieldNumber = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 29 - 1 }) },
);

const varintValue = fc.oneof(
  fc.bigInt({ min: 0n, max: 1000n }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);

const lengthSkew = fc.oneof(
  { weight: 9, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) },
);

/** A PCM payload of exactly the frame size now and then, so frames are sometimes valid. */
const payloadBytes = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(640)) },
);

/** Protobuf-shaped bytes nested up to `depth` levels. */
export function protobufBytes(depth = 3): fc.Arbitrary<Uint8Array> {
  const { message } = fc.letrec<{ message: Uint8Array; field: Field }>((tie) => ({
    message: fc.array(tie("field"), { maxLength: 6 }).map((fields) => encode(fields as Field[])),
    field: fc.oneof(
      { depthSize: "small", maxDepth: depth },
      fc.record({ wire: fc.constant(0 as const), field: fieldNumber, value: varintValue }),
      fc.record({
        wire: fc.constant(2 as const),
        field: fieldNumber,
        payload: tie("message") as fc.Arbitrary<Uint8Array>,
        lengthSkew,
      }),
      fc.record({ wire: fc.constant(2 as const), field: fieldNumber, payload: payloadBytes, lengthSkew }),
      fc.record({
        wire: fc.constant(1 as const),
        field: fieldNumber,
        bytes: fc.uint8Array({ minLength: 8, maxLength: 8 }),
      }),
      fc.record({
        wire: fc.constant(5 as const),
        field: fieldNumber,
        bytes: fc.uint8Array({ minLength: 4, maxLength: 4 }),
      }),
      fc.record({
        wire: fc.constantFrom(3 as const, 4 as const, 6 as const, 7 as const),
        field: fieldNumber,
      }),
    ) as fc.Arbitrary<Field>,
  }));
  return message;
}
