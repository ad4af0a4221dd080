import type { OptionValues } from "../templates/manifest.js";
import type { TargetState } from "../write/target.js";

/** What the command line said, before any defaults: `undefined` means "not given". */
export interface Flags {
  readonly directory?: string;
  readonly stack?: string;
  readonly dbName?: string;
  readonly dbUser?: string;
  /** Template options by option name (`orm`, `python`, ...), as typed. */
  readonly options: Readonly<Record<string, string | undefined>>;
  readonly install?: boolean;
  readonly git?: boolean;
  readonly boot?: boolean;
  readonly bootTimeout?: number;
  readonly yes: boolean;
  readonly force: boolean;
  readonly dryRun: boolean;
  readonly json: boolean;
}

/** The post-generation steps the user asked for. */
export interface StepChoices {
  readonly install: boolean;
  readonly git: boolean;
  readonly boot: boolean;
  readonly bootTimeoutSeconds: number;
}

/** Everything generation needs, resolved and validated before any file is written. Frozen. */
export interface Answers {
  /** The directory as the user typed it (used in the "cd" hint). */
  readonly directory: string;
  /** Absolute path of the project directory. */
  readonly targetDir: string;
  readonly target: TargetState;
  readonly projectName: string;
  readonly pyPackage: string;
  readonly title: string;
  readonly stack: string;
  /** Template options by name; a `multiple` option's answer is the list of chosen values. */
  readonly options: OptionValues;
  readonly dbName: string;
  readonly dbUser: string;
  /** Write into a non-empty directory (only the template's own files). */
  readonly force: boolean;
  readonly steps: StepChoices;
}

/** Values that must never be recorded in `.svc-app.json`, `--json` output or logs. */
export interface Secrets {
  /** The service's database role (DB_PASSWORD). */
  readonly dbPassword: string;
  /** The `postgres` superuser of the Compose database (POSTGRES_PASSWORD), never the service's. */
  readonly postgresPassword: string;
}

export interface SelectQuestion {
  readonly message: string;
  readonly options: readonly { value: string; label: string; hint?: string }[];
  readonly initialValue: string;
}

/** Any number of the options (none included); starts with `initialValues` ticked. */
export interface MultiSelectQuestion {
  readonly message: string;
  readonly options: readonly { value: string; label: string; hint?: string }[];
  readonly initialValues: readonly string[];
}

export interface TextQuestion {
  readonly message: string;
  readonly placeholder: string;
  readonly defaultValue: string;
  /** Returns an error message, or undefined when the value is fine. */
  readonly validate: (value: string) => string | undefined;
}

export interface ConfirmQuestion {
  readonly message: string;
  readonly initialValue: boolean;
}

/** How the resolver asks questions. Implementations throw CancelledError on Esc/Ctrl-C. */
export interface Prompter {
  text(question: TextQuestion): Promise<string>;
  select(question: SelectQuestion): Promise<string>;
  multiselect(question: MultiSelectQuestion): Promise<string[]>;
  confirm(question: ConfirmQuestion): Promise<boolean>;
}
