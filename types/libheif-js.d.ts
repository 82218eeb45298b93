// libheif-js ships its typings for the main entry only; the WASM bundle exports the same library.
declare module 'libheif-js/wasm-bundle.js' {
  const libheif: unknown;
  export default libheif;
}
