import { mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { exerciseItemsApi } from "../e2e/http.js";
import { BootedProject, foundInArchive, codeFile, label, podman, seconds, uniqueName, variantFlags, VARIANTS, type Variant } from "./harness.js";

/** What the closing note reports per variant. */
export interface VariantNumbers {
  coldBuildS?: number;
  warmBuildS?: number;
  bootToHealthyS?: number;
  healthWaitS?: number;
  webImageMB?: number;
  dbImageMB?: number;
}

/**
 * Every stack x ORM (and package manager): the built CLI with `--boot` against the real engine,
 * then everything the containers promise, checked from outside.
 */
export function describeVariants(numbers: Map<string, VariantNumbers>, names: Map<string, string>): void {
  describe.each(VARIANTS.map((v) => ({ ...v, title: label(v) })))("$title", (variant: Variant) => {
    const row: VariantNumbers = {};
    numbers.set(label(variant), row);
    const name = uniqueName(variant);
    names.set(label(variant), name);
    let project: BootedProject;

    afterAll(async () => {
      await project?.cleanup();
    });

    it("--boot builds the images, starts the stack and reports it healthy within the timeout", async () => {
      project = await BootedProject.plan(name);
      const started = Date.now();
      const r = await project.create(["--yes", "--json", ...variantFlags(variant), "--no-install", "--boot", "--boot-timeout", "300"]);
      const ended = Date.now();
      expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
      const steps = JSON.parse(r.stdout).steps as { name: string; status: string; durationMs: number; message: string; commands: string[] }[];
      const boot = steps.find((s) => s.name === "boot")!;
      expect(boot.status, `${boot.message}\n${r.stderr}`).toBe("ok");
      expect(boot.commands).toContain("docker compose up --build --detach");
      const healthy = /healthy after ([\d.]+)s/.exec(boot.message);
      expect(healthy, boot.message).not.toBeNull();
      row.bootToHealthyS = seconds(boot.durationMs);
      row.healthWaitS = Number(healthy![1]);
      expect(row.healthWaitS).toBeLessThan(300);

      // Build time: from the start of the boot step until the newer of the two images was written.
      const bootStarted = ended - boot.durationMs;
      const images = await project.images();
      expect(images.map((i) => i.service).sort()).toEqual(["db", "web"]);
      const created = await Promise.all(images.map(async (i) => Date.parse((await podman(["image", "inspect", "--format", "{{.Created}}", i.id])).trim().replace(/ \+0000 UTC$/, "Z").replace(" ", "T"))));
      row.coldBuildS = seconds(Math.max(...created) - Math.max(bootStarted, started));
      for (const i of images) {
        const size = Number((await podman(["image", "inspect", "--format", "{{.Size}}", i.id])).trim());
        if (i.service === "web") row.webImageMB = Math.round(size / 1e6);
        else row.dbImageMB = Math.round(size / 1e6);
      }
    });

    it("the web process runs as uid 1001 and cannot write to its code", async () => {
      const status = await project.exec("web", ["cat", "/proc/1/status"]);
      expect(status.exitCode, status.output).toBe(0);
      expect(status.output).toMatch(/^Uid:\s+1001\s+1001\s+1001\s+1001$/m);
      expect(status.output).toMatch(/^Gid:\s+1001\s+1001\s+1001\s+1001$/m);
      const cmdline = await project.exec("web", ["cat", "/proc/1/cmdline"]);
      expect(cmdline.output).toMatch(variant.stack === "fastapi" ? /uvicorn/ : /node\x00dist\/main\.js/);
      for (const target of [codeFile(variant), "new-file"]) {
        const write = await project.exec("web", ["sh", "-c", `echo changed >> /home/code/${target}`]);
        expect(write.exitCode, `writing /home/code/${target}: ${write.output}`).not.toBe(0);
        expect(write.output).toMatch(/Permission denied/);
      }
    });

    it("the database image ran init_db.sql: the role exists, is not a superuser and owns its database", async () => {
      const env = project.dotenv();
      const role = await project.sql(`SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = '${env.DB_USER}'`);
      expect(role, `role ${env.DB_USER}`).toBe("t|f");
      expect(await project.sql(`SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '${env.DB_NAME}'`)).toBe(env.DB_USER);
    });

    it("migrations ran on start, and the CRUD round trip works through the published port", async () => {
      const env = project.dotenv();
      expect(await project.sql("SELECT to_regclass('public.items') IS NOT NULL", env.DB_NAME)).toBe("t");
      expect(await project.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'items'", env.DB_NAME)).toBe(env.DB_USER);
      await exerciseItemsApi(project.base);
    });

    it("both Compose healthchecks pass (podman 4.3 runs them only when asked: podman healthcheck run)", async () => {
      for (const service of ["db", "web"]) {
        const { id } = await project.container(service);
        const r = await execa("podman", ["healthcheck", "run", id], { reject: false, all: true });
        expect(r.exitCode, `${service} healthcheck: ${r.all}`).toBe(0);
      }
    });

    it("no image layer holds a secret from .env", async () => {
      const secrets = project.secrets();
      expect(secrets.length, "generated secrets in .env").toBeGreaterThan(0);
      const dir = mkdtempSync(path.join(tmpdir(), "svc-boot-save-"));
      try {
        for (const image of await project.images()) {
          const file = path.join(dir, `${image.service}.tar`);
          await podman(["save", "--format", "docker-archive", "-o", file, image.id]);
          // The search must be able to see into layers: a line of the project's own files is found.
          const known = layerProbe(project, image.service === "db" ? "sql/init_db.sql" : variant.stack === "fastapi" ? "app/main.py" : "package.json");
          const found = await foundInArchive(file, [known, ...secrets]);
          expect(found.has(known), `${known} in the ${image.service} image`).toBe(true);
          expect(secrets.filter((secret) => found.has(secret)).length, `secrets from .env in the ${image.service} image (${image.name})`).toBe(0);
          await rm(file);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("a second build reuses every layer", async () => {
      const before = await project.images();
      const started = Date.now();
      await project.compose(["build"]);
      row.warmBuildS = seconds(Date.now() - started);
      const after = await project.images();
      for (const image of before) {
        const id = (await podman(["image", "inspect", "--format", "{{.Id}}", image.name])).trim();
        expect(id, `${image.service} image rebuilt instead of reused`).toBe(image.id);
      }
      expect(after.length).toBe(before.length);
    });

    it("docker compose down -v leaves no container, volume or network behind", async () => {
      expect((await project.containers(false)).length).toBe(2);
      await project.compose(["down", "-v"]);
      expect(await project.leftovers()).toEqual([]);
    });
  });
}

/** A line that an image must hold: the first long one of a project file its Dockerfile copies. */
function layerProbe(project: BootedProject, file: string): string {
  const text = readFileSync(path.join(project.dir, file), "utf8");
  return text.split("\n").find((line) => line.trim().length > 24)!;
}
