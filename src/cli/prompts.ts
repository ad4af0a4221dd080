import * as clack from "@clack/prompts";
import type { Readable, Writable } from "node:stream";
import { CancelledError } from "../errors.js";
import type { ConfirmQuestion, MultiSelectQuestion, Prompter, SelectQuestion, TextQuestion } from "../options/types.js";

export interface PromptStreams {
  readonly input: Readable;
  readonly output: Writable;
  /** Aborted on SIGTERM: the open prompt ends as cancelled. */
  readonly signal?: AbortSignal;
}

/** The resolver's questions asked with @clack/prompts; Esc/Ctrl-C becomes CancelledError. */
export function clackPrompter(streams: PromptStreams): Prompter {
  function settle<T>(value: T | symbol): Exclude<T, symbol> {
    if (clack.isCancel(value)) throw new CancelledError();
    return value as Exclude<T, symbol>;
  }
  return {
    async text(q: TextQuestion) {
      return settle(await clack.text({
        ...streams,
        message: q.message,
        placeholder: q.placeholder,
        defaultValue: q.defaultValue,
        validate: (value) => q.validate(value ?? ""),
      }));
    },
    async select(q: SelectQuestion) {
      return settle(await clack.select<string>({
        ...streams,
        message: q.message,
        options: q.options.map((o) => ({ value: o.value, label: o.label, ...(o.hint ? { hint: o.hint } : {}) })),
        initialValue: q.initialValue,
      }));
    },
    async multiselect(q: MultiSelectQuestion) {
      return settle(await clack.multiselect<string>({
        ...streams,
        message: q.message,
        options: q.options.map((o) => ({ value: o.value, label: o.label, ...(o.hint ? { hint: o.hint } : {}) })),
        initialValues: [...q.initialValues],
        // Nothing ticked is an answer too: none of the optional parts.
        required: false,
      }));
    },
    async confirm(q: ConfirmQuestion) {
      return settle(await clack.confirm({ ...streams, message: q.message, initialValue: q.initialValue }));
    },
  };
}
