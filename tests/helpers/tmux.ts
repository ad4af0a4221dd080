import { randomBytes } from "node:crypto";
import path from "node:path";
import { execa } from "execa";
import { tempDir } from "./cli.js";

/**
 * Runs a command in a real terminal (a detached tmux session) so the prompts see a TTY,
 * then types into it and reads the screen, as a person would.
 */
export class TerminalSession {
  readonly name = `svc-${randomBytes(4).toString("hex")}`;
  /** The server's socket, in a temporary folder of the test's (removed with it). */
  private readonly socket = path.join(tempDir("svc-tmux-"), "socket");

  /**
   * tmux on a socket of its own: a server shared with other test runs (or other people) would
   * keep the environment of whoever started it (TMPDIR, PATH) for every later session, and
   * would race a session that starts while another's ending shuts the server down.
   */
  private tmux(args: string[], options: { reject?: boolean } = {}) {
    return execa("tmux", ["-S", this.socket, ...args], options);
  }

  static async start(command: string, cwd: string, env: Record<string, string> = {}): Promise<TerminalSession> {
    const session = new TerminalSession();
    // The shell wrapper prints the exit code and keeps the pane open so the test can read it.
    // Its INT trap (a handler, which programs it starts do not inherit) keeps it alive when
    // Ctrl-C reaches the whole foreground process group, as it does in a person's shell.
    const wrapped = `trap : INT; ${command}; echo "EXIT=$?"; sleep 600`;
    // Started by `pnpm test`, the CLI would detect pnpm as the package manager; a person typing
    // the command in a shell has no user agent, so the prompts show their plain defaults.
    const envArgs = Object.entries({ CI: "", NO_COLOR: "1", npm_config_user_agent: "", ...env }).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    await session.tmux(["new-session", "-d", "-s", session.name, "-x", "120", "-y", "50", "-c", cwd, ...envArgs, "sh", "-c", wrapped]);
    return session;
  }

  async screen(): Promise<string> {
    const r = await this.tmux(["capture-pane", "-p", "-J", "-S", "-200", "-t", this.name], { reject: false });
    return String(r.stdout);
  }

  /** Waits until the screen matches, failing with the screen's content after the timeout. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      last = await this.screen();
      if (pattern.test(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${pattern} on screen:\n${last}`);
  }

  /** Sends tmux key names ("Enter", "Down", "Escape", "C-c") or literal text (`literal: true`). */
  async keys(keys: string[], literal = false): Promise<void> {
    await this.tmux(["send-keys", "-t", this.name, ...(literal ? ["-l"] : []), ...keys]);
    await new Promise((r) => setTimeout(r, 150)); // let the prompt redraw before the next key
  }

  async exitCode(timeoutMs = 15_000): Promise<number> {
    const screen = await this.waitFor(/EXIT=\d+/, timeoutMs);
    return Number(/EXIT=(\d+)/.exec(screen)![1]);
  }

  /** Sends a signal to the program running in the pane (the shell wrapper's child). */
  async signal(name: NodeJS.Signals): Promise<void> {
    const shell = String((await this.tmux(["display-message", "-p", "-t", this.name, "#{pane_pid}"])).stdout).trim();
    const child = String((await execa("pgrep", ["-P", shell], { reject: false })).stdout).trim().split("\n")[0];
    if (!child) throw new Error("no program is running in the terminal");
    process.kill(Number(child), name);
  }

  async stop(): Promise<void> {
    await this.tmux(["kill-server"], { reject: false });
  }
}
