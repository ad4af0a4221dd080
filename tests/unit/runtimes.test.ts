import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyDetection } from "../../src/options/detect.js";
import { detectedDefault, notInstalledLine, scanNode, scanPython } from "../../src/options/runtimes.js";
import { parseManifest } from "../../src/templates/manifest.js";
import { fakeMachine as machine } from "../helpers/machine.js";
import { demoManifest } from "../helpers/template.js";

describe("Python versions found here", () => {
  it("reads pyenv's versions and python3.X on PATH, major.minor only", async () => {
    const scan = await scanPython(machine([".pyenv/versions/3.11.7", ".pyenv/versions/3.12.1", ".pyenv/versions/pypy3.10-7.3"], ["python3.13"]));
    expect([...scan.found].sort()).toEqual(["3.11", "3.12", "3.13"]);
    expect(scan.managers).toEqual(["pyenv"]);
  });

  it("reads uv's managed Pythons from its install folder, without running uv (uv python list inspects every interpreter)", async () => {
    const env = machine([".local/share/uv/python/cpython-3.14.0-linux-x86_64-gnu", ".local/share/uv/python/.lock"], ["uv"]);
    writeFileSync(path.join(env.PATH, "uv"), "#!/bin/sh\necho ran >> \"$0.log\"\n");
    chmodSync(path.join(env.PATH, "uv"), 0o755);
    const scan = await scanPython(env);
    expect([...scan.found]).toEqual(["3.14"]);
    expect(scan.managers).toEqual(["uv"]);
    expect(existsSync(path.join(env.PATH, "uv.log")), "uv was run").toBe(false);
    const moved = machine([]);
    mkdirSync(path.join(moved.HOME, "uv-pythons", "cpython-3.12.9-macos-aarch64-none"), { recursive: true });
    expect([...(await scanPython({ ...moved, UV_PYTHON_INSTALL_DIR: path.join(moved.HOME, "uv-pythons") })).found]).toEqual(["3.12"]);
  });

  it("default: the newest offered version found, else the manifest's", async () => {
    const offered = ["3.11", "3.12", "3.13", "3.14"];
    expect(detectedDefault(await scanPython(machine([".pyenv/versions/3.11.7", ".pyenv/versions/3.12.1"])), offered, "3.13")).toBe("3.12");
    expect(detectedDefault(await scanPython(machine([".pyenv/versions/3.9.1"])), offered, "3.13")).toBe("3.13");
  });

  it("says in one line how to get a version that is missing, and which one is here", async () => {
    const scan = await scanPython(machine([".pyenv/versions/3.11.7"]));
    expect(notInstalledLine(scan, "python", "3.13", ["3.11", "3.12", "3.13"])).toBe("Python 3.13 is not installed here; get it with `pyenv install 3.13`, or choose --python 3.11, which is here");
  });
});

describe("Node versions found here", () => {
  it("the running major, and those of nvm, fnm and volta", () => {
    const scan = scanNode(machine([".nvm/versions/node/v22.11.0", ".local/share/fnm/node-versions/v26.0.0", ".volta/tools/image/node/24.1.0"]), "20.20.2");
    expect([...scan.found].sort()).toEqual(["20", "22", "24", "26"]);
    expect(scan.managers).toEqual(["nvm", "fnm", "volta"]);
    expect(scan.running).toBe("20");
  });

  it("default: the running major when offered, else the newest found, else the manifest's", () => {
    const offered = ["22", "24", "26"];
    expect(detectedDefault(scanNode(machine([".nvm/versions/node/v26.0.0"]), "22.1.0"), offered, "24")).toBe("22");
    expect(detectedDefault(scanNode(machine([".nvm/versions/node/v22.1.0"]), "20.1.0"), offered, "24")).toBe("22");
    expect(detectedDefault(scanNode(machine([]), "20.1.0"), offered, "24")).toBe("24");
    expect(notInstalledLine(scanNode(machine([".nvm/versions/node"]), "20.1.0"), "node", "26", offered)).toBe("Node.js 26 is not installed here; get it with `nvm install 26`");
  });
});

describe("detection applied to a manifest", () => {
  it("only options that declare detect change; the scan rides along for the summary", async () => {
    const m = parseManifest(demoManifest({ name: "py", options: [
      { name: "python", message: "Python?", default: "3.13", detect: "python", choices: [{ value: "3.12" }, { value: "3.13" }] },
      { name: "orm", message: "ORM?", default: "b", choices: [{ value: "a" }, { value: "b" }] },
    ], layers: [{ source: "base" }] }), "py/template.json", "py");
    const [seen] = await applyDetection([m], machine([".pyenv/versions/3.12.4"]));
    expect(seen!.options.map((o) => o.default)).toEqual(["3.12", "b"]);
    expect(seen!.options[0]!.runtime?.found.has("3.12")).toBe(true);
    expect(seen!.options[1]!.runtime).toBeUndefined();
  });
});
