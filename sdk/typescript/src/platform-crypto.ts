// The platform's WebCrypto: global in browsers, Deno, Bun and Node 20+; Node 18 keeps it in its
// `node:crypto` module only.

export async function platformCrypto(): Promise<Crypto> {
  if (globalThis.crypto?.subtle) return globalThis.crypto;
  // A variable specifier: bundlers for browsers (which have the global) leave it alone.
  const specifier = "node:crypto";
  const nodeCrypto = (await import(specifier)) as { webcrypto: Crypto };
  return nodeCrypto.webcrypto;
}
