import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { postgresAddresses, postgresAnswers, readAnswer } from "../../src/options/postgres.js";

/** A server message: type byte, int32 length (itself included), body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}
const authentication = (code: number) => message("R", Buffer.from([0, 0, 0, code]));
const error = (sqlstate: string) => message("E", Buffer.from(`SFATAL\0C${sqlstate}\0Mno\0\0`, "latin1"));

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A Unix socket in a fresh folder (the folder to give as PGHOST) that answers every startup message with `reply`. */
async function serverAnswering(reply: Buffer | undefined): Promise<{ dir: string; received: Buffer[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), "svc-pg-unit-"));
  const received: Buffer[] = [];
  const server: Server = createServer((socket) => {
    socket.on("data", (chunk) => {
      received.push(chunk);
      if (reply && received.length === 1) socket.write(reply);
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(path.join(dir, ".s.PGSQL.5432"), resolve));
  cleanups.push(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, received };
}

describe("where a Postgres is looked for", () => {
  it("the local socket in both folders libpq is built with, else each PGHOST at its PGPORT", () => {
    expect(postgresAddresses({})).toEqual([{ socket: "/var/run/postgresql/.s.PGSQL.5432" }, { socket: "/tmp/.s.PGSQL.5432" }]);
    expect(postgresAddresses({ PGPORT: "5433" })).toEqual([{ socket: "/var/run/postgresql/.s.PGSQL.5433" }, { socket: "/tmp/.s.PGSQL.5433" }]);
    expect(postgresAddresses({ PGHOST: "/run/pg,db.local", PGPORT: "6000,6001" })).toEqual([{ socket: "/run/pg/.s.PGSQL.6000" }, { host: "db.local", port: 6001 }]);
    expect(postgresAddresses({ PGHOST: "localhost" })).toEqual([{ host: "localhost", port: 5432 }]);
    expect(postgresAddresses({}, "win32")).toEqual([{ host: "localhost", port: 5432 }]);
  });
});

describe("the server's first message, read as pg_isready reads it", () => {
  it("an authentication request or any error but 57P03 means up; a half message waits", () => {
    expect(readAnswer(authentication(0))).toBe("in");
    expect(readAnswer(authentication(10))).toBe("asked");
    expect(readAnswer(error("28000"))).toBe("error");
    expect(readAnswer(error("57P03"))).toBe("rejected");
    expect(readAnswer(error("57P03").subarray(0, 7))).toBeUndefined();
    expect(readAnswer(Buffer.alloc(0))).toBeUndefined();
  });
});

describe("postgresAnswers", () => {
  it("is true for a server that lets us in (and asks it to end the session), or asks for a password, or refuses our role", async () => {
    for (const reply of [authentication(0), authentication(10), error("28000")]) {
      const { dir, received } = await serverAnswering(reply);
      expect(await postgresAnswers({ PGHOST: dir, PGUSER: "someone" }, { timeoutMs: 2_000 })).toBe(true);
      const startup = received[0]!;
      expect(startup.readInt32BE(0)).toBe(startup.length);
      expect(startup.readInt32BE(4)).toBe(3 << 16);
      expect(startup.subarray(8).toString("utf8").split("\0")).toEqual(expect.arrayContaining(["user", "someone", "database"]));
    }
  });

  it("is false for a server that is starting up (57P03), a socket that never answers, or no socket at all", async () => {
    const starting = await serverAnswering(error("57P03"));
    expect(await postgresAnswers({ PGHOST: starting.dir }, { timeoutMs: 2_000 })).toBe(false);
    const silent = await serverAnswering(undefined);
    expect(await postgresAnswers({ PGHOST: silent.dir }, { timeoutMs: 200 })).toBe(false);
    expect(await postgresAnswers({ PGHOST: path.join(silent.dir, "nothing-here") }, { timeoutMs: 2_000 })).toBe(false);
  });

  it("takes an answer that came while the run was busy for an answer, not for silence", async () => {
    const { dir } = await serverAnswering(authentication(0));
    const looking = postgresAnswers({ PGHOST: dir }, { timeoutMs: 50 });
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // the run renders and writes, synchronously, well past the look's timeout
    }
    expect(await looking).toBe(true);
  });

  it("stops looking when the run no longer needs the answer", async () => {
    const silent = await serverAnswering(undefined);
    const abort = new AbortController();
    const looking = postgresAnswers({ PGHOST: silent.dir }, { timeoutMs: 60_000, signal: abort.signal });
    abort.abort();
    expect(await looking).toBe(false);
  });
});
