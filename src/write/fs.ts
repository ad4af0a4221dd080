import { accessSync, chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";

/**
 * The one seam through which the writer touches the disk: a subset of `node:fs/promises`.
 * Production passes realFs; unit tests pass memfs's `fs.promises`.
 */
export interface FsLike {
  lstat(p: string): Promise<{ isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean; mode: number }>;
  readFile(p: string): Promise<Buffer>;
  readdir(p: string): Promise<unknown[]>;
  mkdir(p: string, options: { recursive?: boolean; mode?: number }): Promise<unknown>;
  writeFile(p: string, data: Uint8Array | string, options: { mode?: number; flag?: string }): Promise<void>;
  chmod(p: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(p: string, options: { recursive?: boolean; force?: boolean }): Promise<void>;
  rmdir(p: string): Promise<void>;
  access(p: string, mode?: number): Promise<void>;
}

/**
 * The disk, through Node's synchronous calls behind the promise interface. A scaffold's few
 * dozen small files are written in a few milliseconds either way, but each asynchronous call
 * goes through libuv's thread pool: two thread hand-offs a call (some 1,200 context switches a
 * scaffold, each a wait for a core on a busy machine) and a promise and a FileHandle in
 * JavaScript. The event loop does not turn while a file is written, so a signal is seen between
 * the writer's steps (it checks for one before moving the files into place, as before).
 */
export const realFs: FsLike = {
  lstat: async (p) => lstatSync(p),
  readFile: async (p) => readFileSync(p),
  readdir: async (p) => readdirSync(p),
  mkdir: async (p, options) => mkdirSync(p, options),
  writeFile: async (p, data, options) => writeFileSync(p, data, options),
  chmod: async (p, mode) => chmodSync(p, mode),
  rename: async (from, to) => renameSync(from, to),
  rm: async (p, options) => rmSync(p, options),
  rmdir: async (p) => rmdirSync(p),
  access: async (p, mode) => accessSync(p, mode),
};

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
