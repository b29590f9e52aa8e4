// A synchronous "does this file exist" that also loads in browsers, where there are no
// files: node:fs is imported once, lazily, and its absence means "no".

type ExistsSync = (path: string) => boolean;

// Only where Node's API is there (Node, Bun, Deno): a browser would log a failed fetch.
const hasNodeApi = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string";
let fsExistsSync: ExistsSync | undefined;
if (hasNodeApi) try {
  const fsModule = "node:fs"; // a variable specifier keeps bundlers from resolving it
  fsExistsSync = ((await import(fsModule)) as { existsSync: ExistsSync }).existsSync;
} catch {
  fsExistsSync = undefined;
}

/** Whether a file exists at `path`; always false where there is no file system. */
export function existsSync(path: string): boolean {
  return fsExistsSync ? fsExistsSync(path) : false;
}
