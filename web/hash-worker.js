// The SHA-256 of each file to upload, computed off the page's thread (a module worker: uploads.js
// starts it), so that the server can say whether the photo is already in the gallery before a byte
// of it is sent. crypto.subtle has no streaming digest, and it copies what it is given: a file read
// whole takes twice its size while it is hashed (measured in Chromium: +200 MiB for 100 MiB). So a
// file up to WHOLE_MAX is read whole and hashed natively (a phone's photo: tens of milliseconds), and
// a larger one is read CHUNK at a time through the incremental SHA-256 below, which holds one chunk
// and reports its progress as it goes (100 MiB: a few seconds). The same code hashes every file where
// crypto.subtle is missing (a page served over plain HTTP from another host than localhost).

/** The largest file read whole for crypto.subtle. */
export const WHOLE_MAX = 32 * 1024 * 1024;
/** How much of a larger file is read at a time. */
const CHUNK = 4 * 1024 * 1024;

// FIPS 180-4: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 fed piece by piece (FIPS 180-4). Words are Int32: V8 keeps them small integers, never doubles. */
export class Sha256 {
  #h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  #w = new Int32Array(64);
  #block = new Uint8Array(64);
  #filled = 0;
  #length = 0;

  /** Adds bytes (a Uint8Array) to what is hashed. */
  update(bytes) {
    this.#length += bytes.length;
    let at = 0;
    if (this.#filled > 0) {
      at = Math.min(64 - this.#filled, bytes.length);
      this.#block.set(bytes.subarray(0, at), this.#filled);
      this.#filled += at;
      if (this.#filled < 64) return;
      this.#compress(this.#block, 0, 64);
      this.#filled = 0;
    }
    const whole = at + Math.floor((bytes.length - at) / 64) * 64;
    this.#compress(bytes, at, whole);
    this.#block.set(bytes.subarray(whole), 0);
    this.#filled = bytes.length - whole;
  }

  /** The digest in lower-case hex; the hash takes no more bytes after. */
  hex() {
    const bits = this.#length * 8;
    const padding = new Uint8Array((this.#filled < 56 ? 56 : 120) - this.#filled + 8);
    padding[0] = 0x80;
    const view = new DataView(padding.buffer);
    view.setUint32(padding.length - 8, Math.floor(bits / 2 ** 32));
    view.setUint32(padding.length - 4, bits >>> 0);
    this.update(padding);
    return [...this.#h].map((word) => (word >>> 0).toString(16).padStart(8, '0')).join('');
  }

  /** The 64-byte blocks of `bytes` from `start` to `end`. */
  #compress(bytes, start, end) {
    const w = this.#w;
    const h = this.#h;
    let h0 = h[0];
    let h1 = h[1];
    let h2 = h[2];
    let h3 = h[3];
    let h4 = h[4];
    let h5 = h[5];
    let h6 = h[6];
    let h7 = h[7];
    for (let o = start; o < end; o += 64) {
      for (let t = 0, p = o; t < 16; t++, p += 4) w[t] = (bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3];
      for (let t = 16; t < 64; t++) {
        const x = w[t - 15];
        const y = w[t - 2];
        const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
      }
      let a = h0;
      let b = h1;
      let c = h2;
      let d = h3;
      let e = h4;
      let f = h5;
      let g = h6;
      let hh = h7;
      for (let t = 0; t < 64; t++) {
        const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const t1 = (hh + s1 + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0;
        const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        hh = g;
        g = f;
        f = e;
        e = (d + t1) | 0;
        d = c;
        c = b;
        b = a;
        a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0;
      h1 = (h1 + b) | 0;
      h2 = (h2 + c) | 0;
      h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0;
      h5 = (h5 + f) | 0;
      h6 = (h6 + g) | 0;
      h7 = (h7 + hh) | 0;
    }
    h[0] = h0;
    h[1] = h1;
    h[2] = h2;
    h[3] = h3;
    h[4] = h4;
    h[5] = h5;
    h[6] = h6;
    h[7] = h7;
  }
}

const hex = (bytes) => [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');

/**
 * The SHA-256 (lower-case hex) of a Blob or File; `progress(bytesRead)` as it is read.
 * @param {Blob} blob
 * @param {(bytesRead: number) => void} [progress]
 */
export async function sha256Of(blob, progress = () => {}) {
  if (blob.size <= WHOLE_MAX && globalThis.crypto?.subtle) {
    const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
    progress(blob.size);
    return hex(new Uint8Array(digest));
  }
  const hash = new Sha256();
  for (let at = 0; at < blob.size; at += CHUNK) {
    hash.update(new Uint8Array(await blob.slice(at, at + CHUNK).arrayBuffer()));
    progress(Math.min(at + CHUNK, blob.size));
  }
  return hash.hex();
}

// In the worker: `{ job, file }` in; `{ job, loaded, total }` as it reads, then `{ job, sha256 }` or
// `{ job, error }` out. One file at a time, in the order asked: two at once would hold both.
if (typeof WorkerGlobalScope !== 'undefined') {
  let queue = Promise.resolve();
  self.addEventListener('message', ({ data: { job, file } }) => {
    queue = queue.then(async () => {
      try {
        const sha256 = await sha256Of(file, (loaded) => self.postMessage({ job, loaded, total: file.size }));
        self.postMessage({ job, sha256 });
      } catch (err) {
        self.postMessage({ job, error: err instanceof Error ? err.message : String(err) });
      }
    });
  });
}
