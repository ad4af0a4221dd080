import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Answers } from "../../src/options/types.js";
import { parseManifest } from "../../src/templates/manifest.js";
import { tempDir } from "./cli.js";
import type { SourceFile, Template } from "../../src/templates/registry.js";

/** A small manifest, valid unless a test changes it. */
export function demoManifest(overrides: Record<string, unknown> = {}) {
  return {
    name: "demo",
    title: "Demo",
    description: "A template for tests",
    options: [
      { name: "orm", message: "ORM?", default: "alpha", choices: [{ value: "alpha", label: "Alpha" }, { value: "beta", label: "Beta" }] },
    ],
    layers: [{ source: "base" }, { source: "orm-beta", when: { orm: "beta" } }],
    next: ["cd {{dir}}", "make"],
    install: [["make", "install"]],
    health: { path: "/health", portVar: "WEB_PORT" },
    ...overrides,
  };
}

const file = (p: string, content: string, mode = 0o644): SourceFile => ({ path: p, content: Buffer.from(content), mode });

/** An in-memory Template with a base and a `beta` overlay, for renderer tests. */
export function demoTemplate(files: { base?: SourceFile[]; beta?: SourceFile[] } = {}, partials: Record<string, string> = {}): Template {
  const manifest = parseManifest(demoManifest(), "demo/template.json", "demo");
  return {
    manifest,
    dir: "templates/demo",
    layers: [
      {
        layer: manifest.layers[0]!,
        files: files.base ?? [
          file("README.md.hbs", "# {{project.title}} ({{options.orm}})\n"),
          file("_env.hbs", "DB_PASSWORD={{db.password}}\n"),
          file("_gitignore", ".env\n"),
          file("run.sh", "#!/bin/sh\necho {{not rendered}}\n", 0o755),
          file("app/models.py", "MODEL = 'alpha'\n"),
        ],
      },
      { layer: manifest.layers[1]!, files: files.beta ?? [file("app/models.py", "MODEL = 'beta'\n")] },
    ],
    partials,
  };
}

export { file as sourceFile };

export function demoAnswers(overrides: Partial<Answers> = {}): Answers {
  return {
    directory: "my-api",
    targetDir: "/work/my-api",
    target: { kind: "missing" },
    projectName: "my-api",
    pyPackage: "my_api",
    title: "My Api",
    stack: "demo",
    options: { orm: "alpha" },
    dbName: "my_api",
    dbUser: "my_api_user",
    force: false,
    steps: { install: false, git: false, boot: false, bootTimeoutSeconds: 180 },
    ...overrides,
  };
}

/** Writes a templates root on disk: { "demo/template.json": "...", ... }. */
export function templatesOnDisk(files: Record<string, string>): string {
  const root = tempDir("svc-templates-");
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  return root;
}
