import type { Readable, Writable } from "node:stream";
import { CancelledError } from "../errors.js";
import type { ConfirmQuestion, MultiSelectQuestion, Prompter, SelectQuestion, TextQuestion } from "../options/types.js";

export interface PromptStreams {
  /** Read when a question is asked (a getter may make it then: see defaultIo in src/index.ts). */
  readonly input: Readable;
  readonly output: Writable;
  /** Aborted on SIGTERM: the open prompt ends as cancelled. */
  readonly signal?: AbortSignal;
}

/**
 * The resolver's questions asked with @clack/prompts; Esc/Ctrl-C becomes CancelledError.
 * The library is loaded at the first question: a run with every answer given never loads it.
 */
export function clackPrompter(streams: PromptStreams): Prompter {
  const load = () => import("@clack/prompts");
  async function settle<T>(pending: Promise<T | symbol>): Promise<Exclude<T, symbol>> {
    const value = await pending;
    if ((await load()).isCancel(value)) throw new CancelledError();
    return value as Exclude<T, symbol>;
  }
  return {
    async text(q: TextQuestion) {
      const clack = await load();
      return settle(clack.text({
        ...streams,
        message: q.message,
        placeholder: q.placeholder,
        defaultValue: q.defaultValue,
        validate: (value) => q.validate(value ?? ""),
      }));
    },
    async select(q: SelectQuestion) {
      const clack = await load();
      return settle(clack.select<string>({
        ...streams,
        message: q.message,
        options: choices(q),
        initialValue: q.initialValue,
      }));
    },
    async multiselect(q: MultiSelectQuestion) {
      const clack = await load();
      return settle(clack.multiselect<string>({
        ...streams,
        message: q.message,
        options: choices(q),
        initialValues: [...q.initialValues],
        // Nothing ticked is an answer too: none of the optional parts.
        required: false,
      }));
    },
    async confirm(q: ConfirmQuestion) {
      const clack = await load();
      return settle(clack.confirm({ ...streams, message: q.message, initialValue: q.initialValue }));
    },
  };
}

/** A question's choices as clack lists them (a hint only where there is one). */
function choices(q: SelectQuestion | MultiSelectQuestion) {
  return q.options.map((o) => ({ value: o.value, label: o.label, ...(o.hint ? { hint: o.hint } : {}) }));
}
