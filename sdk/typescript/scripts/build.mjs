// Builds the package: ESM (dist/esm) and CommonJS (dist/cjs), each with its .d.ts; with
// --tests, also the tests and examples (dist/test), which import the built package by its name.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
function compile(project) {
  try {
    execFileSync(process.execPath, [tsc, "-p", project], { stdio: "inherit" });
  } catch {
    console.error(`tsc -p ${project} failed`);
    process.exit(1);
  }
}

rmSync("dist", { recursive: true, force: true });
compile("tsconfig.json");
compile("tsconfig.cjs.json");
// The package is "type": "module"; this marks the CommonJS build as such.
mkdirSync("dist/cjs", { recursive: true });
writeFileSync("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }) + "\n");
if (process.argv.includes("--tests")) compile("tsconfig.test.json");
