import type { Answers } from "../options/types.js";
import { fillText } from "../render/texts.js";
import { whenMatches, type Manifest } from "../templates/manifest.js";

// Apart from the step runner (steps.ts): the summary lists these commands on every run, while the
// runner and what it loads are needed only when a step runs.

/** The install commands of the manifest that apply to the answers, rendered ({{options.pm}} ...), with how to get each program. */
export async function applicableInstalls(manifest: Manifest, answers: Answers) {
  const context = { options: answers.options };
  return Promise.all(manifest.install
    .filter((cmd) => whenMatches(cmd, answers.options))
    .map(async (cmd) => ({ ...cmd, argv: await Promise.all(cmd.run.map((arg) => fillText(manifest, arg, context))) })));
}

export async function installCommands(manifest: Manifest, answers: Answers): Promise<string[][]> {
  return (await applicableInstalls(manifest, answers)).map((c) => c.argv);
}
