import { connect, type Socket } from "node:net";
import { userInfo } from "node:os";
import path from "node:path";

type Env = Readonly<Record<string, string | undefined>>;

/** Where a Postgres may listen: a Unix socket file, or a TCP host and port. */
export type PostgresAddress = { readonly socket: string } | { readonly host: string; readonly port: number };

/**
 * Where libpq (psql, pg_isready) would connect, from the variables it reads: each host of
 * `PGHOST` (a comma-separated list; one starting with `/` is a folder holding the server's
 * socket) at `PGPORT` (one for all, or one per host), else the local socket. libpq's socket
 * folder is set when it is built: /var/run/postgresql on Debian and Ubuntu, /tmp upstream and on
 * Homebrew; both are tried. Windows has no local socket: localhost.
 */
export function postgresAddresses(env: Env, platform = process.platform): PostgresAddress[] {
  const hosts = (env.PGHOST ?? "").split(",").map((h) => h.trim());
  const ports = (env.PGPORT ?? "").split(",").map((p) => Number(p.trim()) || 5432);
  const portOf = (i: number) => ports[ports.length === 1 ? 0 : i] ?? 5432;
  const at = (host: string, port: number): PostgresAddress[] => {
    if (host === "") return platform === "win32" ? [{ host: "localhost", port }] : ["/var/run/postgresql", "/tmp"].map((dir) => ({ socket: path.posix.join(dir, `.s.PGSQL.${port}`) }));
    if (host.startsWith("/")) return [{ socket: path.join(host, `.s.PGSQL.${port}`) }];
    return [{ host, port }];
  };
  return hosts.flatMap((host, i) => at(host, portOf(i)));
}

/**
 * True when a Postgres answers at `env`'s address (see postgresAddresses) as pg_isready means it
 * (libpq's PQping): it replies to a startup message, with an authentication request or with any
 * error but "the database system is starting up / shutting down" (SQLSTATE 57P03). A wrong user
 * or database is an answer too: the server is up. One socket per address, tried side by side;
 * no program is run (pg_isready is a Perl wrapper on Debian: tens of milliseconds to start).
 */
export async function postgresAnswers(env: Env, options: { timeoutMs: number; signal?: AbortSignal }): Promise<boolean> {
  const user = env.PGUSER || currentUser();
  const startup = startupMessage({ user, database: env.PGDATABASE || user, application_name: "create-svc-app" });
  const attempts = postgresAddresses(env).map((address) => ping(address, startup, options));
  // The first address that answers wins; false when none does.
  return new Promise((resolve) => {
    let left = attempts.length;
    if (left === 0) resolve(false);
    for (const attempt of attempts) {
      void attempt.then((up) => {
        left--;
        if (up) resolve(true);
        else if (left === 0) resolve(false);
      });
    }
  });
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "postgres"; // no entry for our uid (a container): any name will do, the server answers anyway
  }
}

/** The protocol 3.0 startup message: length, version, then name/value pairs ending in an empty name. */
function startupMessage(params: Record<string, string>): Buffer {
  const body = Buffer.from(`${Object.entries(params).map(([k, v]) => `${k}\0${v}\0`).join("")}\0`, "utf8");
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196_608, 4); // 3 << 16: protocol 3.0
  return Buffer.concat([head, body]);
}

/** AuthenticationOk: the server let us in (trust); ask it to end the session as psql would. */
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);

function ping(address: PostgresAddress, startup: Buffer, { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal }): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    let reply = Buffer.alloc(0);
    let settled = false;
    /**
     * The answer, once; the socket is closed at once, after a last message if any (written to
     * the kernel right away: a local socket takes it whole). Not `end()`, which would keep the
     * run alive until the server hangs up, long enough for V8's idle-time collections to start.
     */
    const done = (up: boolean, last?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (last) socket.write(last);
      socket.destroy();
      resolve(up);
    };
    const onAbort = () => done(false);
    // The time runs from the last step the socket made (connected, some bytes): a run busy
    // rendering while the server answered must not take the answer for silence. When the timer
    // fires, what arrived meanwhile is read first (I/O comes before setImmediate in a turn of the
    // event loop); only a turn without progress ends the look.
    let steps = 0;
    const wait = () => setTimeout(() => {
      const seen = steps;
      setImmediate(() => {
        if (steps === seen) done(false);
      });
    }, timeoutMs);
    let timer = wait();
    const progressed = () => {
      steps++;
      clearTimeout(timer);
      timer = wait();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const socket: Socket = "socket" in address ? connect(address.socket) : connect(address.port, address.host);
    socket.once("connect", () => {
      progressed();
      socket.write(startup);
    });
    socket.on("data", (chunk: Buffer) => {
      progressed();
      reply = Buffer.concat([reply, chunk]);
      const answer = readAnswer(reply);
      if (answer === undefined) return; // the first message is not complete yet
      done(answer !== "rejected", answer === "in" ? TERMINATE : undefined);
    });
    socket.on("error", () => done(false));
    socket.on("close", () => done(false));
  });
}

/**
 * The server's first message: an authentication request ("R": "in" when it is AuthenticationOk,
 * else "asked"), an error ("E": "rejected" for 57P03, else "error", which still means up), or
 * undefined while incomplete. Anything else (an old server's reply) is an answer too.
 */
export function readAnswer(reply: Buffer): "in" | "asked" | "rejected" | "error" | "other" | undefined {
  if (reply.length < 1) return undefined;
  const type = String.fromCharCode(reply[0]!);
  if (type !== "R" && type !== "E") return "other";
  if (reply.length < 5) return undefined;
  const length = reply.readInt32BE(1);
  if (reply.length < 1 + length) return undefined;
  if (type === "R") return reply.readInt32BE(5) === 0 ? "in" : "asked";
  // Error fields: a type byte, a NUL-terminated string, ...; the code is field "C".
  const fields = reply.subarray(5, 1 + length).toString("utf8").split("\0");
  return fields.some((f) => f === "C57P03") ? "rejected" : "error";
}
