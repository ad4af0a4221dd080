import { mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { portInUse } from "../../src/steps/ports.js";
import { exerciseItemsApi } from "../e2e/http.js";
import { runCommands } from "../e2e/walk.js";
import { manifestNamed } from "../helpers/expected.js";
import { terminalEnv } from "../helpers/pack.js";
import { BootedProject, builtServicesOf, foundInArchive, codeFile, label, podman, seconds, servicesOf, uniqueName, variantFlags, VARIANTS, type Variant } from "./harness.js";

/** What the closing note reports per variant. */
export interface VariantNumbers {
  coldBuildS?: number;
  warmBuildS?: number;
  bootToHealthyS?: number;
  healthWaitS?: number;
  webImageMB?: number;
  dbImageMB?: number;
  /** The printed Docker path: from the shell's start to `make up` returning, the service healthy. */
  makeUpS?: number;
  /** Of that, the wait after the containers started until the last one was healthy (the adapter's `up --wait`). */
  upWaitS?: number;
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
    let user: BootedProject | undefined;

    afterAll(async () => {
      await project?.cleanup();
      await user?.cleanup();
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
      const images = (await project.images()).filter((i) => builtServicesOf(variant).includes(i.service));
      expect((await project.images()).map((i) => i.service).sort()).toEqual(servicesOf(variant));
      const created = await Promise.all(images.map(async (i) => Date.parse((await podman(["image", "inspect", "--format", "{{.Created}}", i.id])).trim().replace(/ \+0000 UTC$/, "Z").replace(" ", "T"))));
      row.coldBuildS = seconds(Math.max(...created) - Math.max(bootStarted, started));
      for (const i of images) {
        const size = Number((await podman(["image", "inspect", "--format", "{{.Size}}", i.id])).trim());
        if (i.service === "web") row.webImageMB = Math.round(size / 1e6);
        else if (i.service === "db") row.dbImageMB = Math.round(size / 1e6);
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

    if (variant.features?.includes("worker")) it("the worker: the web image as uid 1001 with another command, healthy; a job queued over HTTP succeeds", async () => {
      await checkWorkerContainer(project, variant);
    });

    it("every Compose healthcheck passes (podman 4.3 runs them only when asked: podman healthcheck run)", async () => {
      for (const service of servicesOf(variant)) {
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
        for (const image of (await project.images()).filter((i) => builtServicesOf(variant).includes(i.service))) {
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
      expect((await project.containers(false)).length).toBe(servicesOf(variant).length);
      await project.compose(["down", "-v"]);
      expect(await project.leftovers()).toEqual([]);
    });

    // The Docker path of the printed next steps, as a user takes it: the built CLI with --yes and
    // every default (PostgreSQL 18 included; no --boot), then the commands `next` lists, verbatim,
    // in bash. --no-install only because the host's install is not on this path (its commands have
    // none, and .dockerignore keeps node_modules/.venv out of the build). The same project name as
    // above, so the web image's layers come from the cache: the build itself was checked above.
    // The first variant leaves DB_PORT alone, as a user who moved nothing: the host's Postgres holds
    // 5432, so the CLI must move it on that path; the others export a free DB_PORT, as a user
    // with a Postgres of their own would. Only for the variants on the default package manager.
    const pmDefault = manifestNamed(variant.stack).options.find((o) => o.name === "pm")?.default;
    if (!variant.pm || variant.pm === pmDefault) it("the printed Docker path, verbatim, with the defaults: make up returns healthy, /health answers on the first probe, /items works, down -v leaves nothing", async () => {
      const moved = variant === VARIANTS[0];
      user = await BootedProject.plan(name, { dbPort: !moved });
      const r = await user.create(["--yes", "--json", ...variantFlags({ ...variant, postgres: undefined }), "--no-install"]);
      expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.answers.options.postgres).toBe("18");
      const docker = out.next.paths.find((p: { database: string }) => p.database === "docker");
      if (moved) {
        expect(await portInUse("127.0.0.1", 5432), "the host's Postgres holds 127.0.0.1:5432").toBe(true);
        expect(docker.commands).toEqual([`cd ${name}`, expect.stringMatching(/^DB_PORT=\d+ make up$/)]);
        expect(docker.needs).toContain("127.0.0.1:5432 (DB_PORT) is taken here");
      } else {
        expect(docker.commands).toEqual([`cd ${name}`, "make up"]);
      }
      const ran = await runCommands(docker.commands, { cwd: path.dirname(user.dir), env: terminalEnv(user.env), timeoutMs: 600_000 });
      row.makeUpS = seconds(ran.durationMs);
      const waits = [...ran.output.matchAll(/Healthy \(waited (\d+)s\)/g)].map((m) => Number(m[1]));
      expect(waits.length, `one healthy container per service:\n${ran.output}`).toBe(servicesOf(variant).length);
      row.upWaitS = Math.max(...waits);
      // make up has returned: the first request must find the service and its database ready.
      await exerciseItemsApi(user.base);
      await user.compose(["down", "-v"]);
      expect(await user.leftovers()).toEqual([]);
    });
  });
}

/** A line that an image must hold: the first long one of a project file its Dockerfile copies. */
function layerProbe(project: BootedProject, file: string): string {
  const text = readFileSync(path.join(project.dir, file), "utf8");
  return text.split("\n").find((line) => line.trim().length > 24)!;
}

/**
 * The worker feature's container, from outside: the web image (the same build) running its
 * worker (FastAPI: taskiq; Fastify: node dist/worker.js) as uid 1001, its healthcheck (the
 * heartbeat it refreshes in Redis) passing, and a job queued over the published port run to the
 * end by it.
 */
async function checkWorkerContainer(project: BootedProject, variant: Variant): Promise<void> {
  const [web, worker] = [await project.container("web"), await project.container("worker")];
  const imageId = (image: string) => podman(["image", "inspect", "--format", "{{.Id}}", image]).then((id) => id.trim());
  expect(await imageId(worker.image), "the worker runs the web image").toBe(await imageId(web.image));
  const status = await project.exec("worker", ["cat", "/proc/1/status"]);
  expect(status.output).toMatch(/^Uid:\s+1001\s+1001\s+1001\s+1001$/m);
  expect(status.output).toMatch(/^Gid:\s+1001\s+1001\s+1001\s+1001$/m);
  expect((await project.exec("worker", ["cat", "/proc/1/cmdline"])).output).toMatch(variant.stack === "fastapi" ? /taskiq\x00worker/ : /node\x00dist\/worker\.js/);
  // The boot step waits for web only: the worker's first heartbeat may take a few seconds more.
  let health = await execa("podman", ["healthcheck", "run", worker.id], { reject: false, all: true });
  for (let i = 0; i < 60 && health.exitCode !== 0; i++) {
    await new Promise((r) => setTimeout(r, 1_000));
    health = await execa("podman", ["healthcheck", "run", worker.id], { reject: false, all: true });
  }
  expect(health.exitCode, `worker healthcheck: ${health.all}`).toBe(0);

  const post = async (p: string, body?: unknown) => {
    const r = await fetch(`${project.base}${p}`, { method: "POST", headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, location: r.headers.get("location"), json: (await r.json()) as Record<string, unknown> };
  };
  const item = await post("/items", { name: "booted", description: "run by the worker container" });
  expect(item.status).toBe(201);
  const queued = await post(`/items/${item.json.id}/jobs`);
  expect(queued.status, JSON.stringify(queued.json)).toBe(202);
  let job = queued.json;
  for (let i = 0; i < 300 && !["succeeded", "failed"].includes(String(job.status)); i++) {
    await new Promise((r) => setTimeout(r, 200));
    job = (await (await fetch(`${project.base}${queued.location}`)).json()) as Record<string, unknown>;
  }
  const logs = await execa("podman", ["logs", "--tail", "30", worker.id], { reject: false, all: true });
  expect(job, `the worker's last output:\n${logs.all}`).toMatchObject({ status: "succeeded", attempts: 1, result: { item_id: item.json.id, name_length: 6, description_words: 5 } });
}
