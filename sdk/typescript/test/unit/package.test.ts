// The package's own facts agree with each other.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";

import { VERSION } from "../../src/index.js";

it("has package.json's version and no runtime dependencies", () => {
  const manifest = JSON.parse(
    readFileSync(new URL("../../../../package.json", import.meta.url), "utf8"),
  ) as { version: string; dependencies?: object };
  assert.equal(VERSION, manifest.version);
  assert.equal(manifest.dependencies, undefined, "no runtime dependencies");
});
