// The built library of a checkout named on a bench's command line (absolute or relative
// to the working directory), for the benches that compare builds in one process.
export function importCheckout(dir) {
  const root = new URL(`${dir.replace(/\/$/, "")}/`, `file://${process.cwd()}/`);
  return import(new URL("dist/index.js", root).href);
}
