import type { Writable } from "node:stream";

/**
 * Human-facing output. On a TTY it uses clack's frame (intro, log lines, outro); otherwise
 * plain lines. In --json mode it writes to stderr so stdout holds only the JSON object.
 */
export interface Reporter {
  intro(title: string): void;
  info(message: string): void;
  warn(message: string): void;
  success(message: string): void;
  outro(message: string): void;
  error(message: string): void;
  /** A long-running task: a spinner on a TTY, a line when it starts otherwise. */
  task(label: string): { done(message: string): void; fail(message: string): void };
}

/** Plain lines, or with `fancy` (a person at a terminal) clack's frame: only then is clack loaded. */
export async function createReporter(output: Writable, errors: Writable, fancy: boolean): Promise<Reporter> {
  if (fancy) {
    const [clack, { default: kleur }] = await Promise.all([import("@clack/prompts"), import("kleur")]);
    const opts = { output };
    return {
      intro: (t) => clack.intro(kleur.inverse(` ${t} `), opts),
      info: (m) => clack.log.info(m, opts),
      warn: (m) => clack.log.warn(m, opts),
      success: (m) => clack.log.success(m, opts),
      outro: (m) => clack.outro(m, opts),
      error: (m) => clack.log.error(m, opts),
      task: (label) => {
        // Dots, not clack's timer: the step's own line ends with its duration, once.
        const spin = clack.spinner({ output, indicator: "dots" });
        spin.start(label);
        // The spinner puts the terminal in raw mode and answers Ctrl-C with process.exit(0): the
        // step's programs (a whole image build) would go on and the exit code would say success.
        // In cooked mode Ctrl-C is a SIGINT again: the step is stopped and the CLI exits 130.
        if (process.stdin.isTTY) process.stdin.setRawMode(false);
        return { done: (m) => spin.stop(m), fail: (m) => spin.error(m) };
      },
    };
  }
  const line = (m: string) => output.write(`${m}\n`);
  return {
    intro: () => {},
    info: line,
    warn: (m) => errors.write(`${m}\n`),
    success: line,
    outro: line,
    error: (m) => errors.write(`error: ${m}\n`),
    task: (label) => {
      line(`${label}...`);
      return { done: line, fail: (m) => errors.write(`${m}\n`) };
    },
  };
}
