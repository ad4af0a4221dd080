import * as nodeFs from "node:fs/promises";

/**
 * The one seam through which the writer touches the disk: a subset of `node:fs/promises`.
 * Production passes the real module; unit tests pass memfs's `fs.promises`.
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

export const realFs: FsLike = nodeFs as unknown as FsLike;

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
